/* describe.c - a plan as text (`clnet plan`) and as numbers: the fused groups in
 * execution order with the kernels this device runs for them, each activation
 * buffer, and the planned against the unplanned activation memory.
 * Tests: tests/models/test_plan.c, tests/cli/test_cli.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/plan.h"

/* The kernels of one step on this context: the op's own algorithm ("im2col + gemm
 * packed") and what fusion put in its epilogue, e.g. "+ epilogue(bias, residual, relu)",
 * or "with epilogue(...)" when the op's kernels apply it as they store (no kernel of its
 * own: the packed GEMM, Winograd's output transform, depthwise). */
void clnet__step_kernels(const clnet_model *m, const clnet__plan *p, const clnet__step *s,
                         char *buf, size_t len)
{
    const clnet__op_desc *op = s->op;
    if (s->in_place) {
        snprintf(buf, len, "none: in place (inputs written into its channels)");
        return;
    }
    snprintf(buf, len, "%s", s->exec.forward);
    const clnet__value *out = &p->values[s->out];
    char into[96] = "";
    if (out->host >= 0) /* written strided into a concatenation's buffer */
        snprintf(into, sizeof into, " -> %s[%d:%d]",
                 m->graph->layers[p->values[out->host].layer].name, out->host_channel,
                 out->host_channel + out->view.shape.c);
    const clnet__act *a = clnet__params_act(op, s->params);
    const int *bias = clnet__params_use_bias(op, s->params);
    /* The activation run in the epilogue (softmax runs after it: its own kernel). */
    char act_text[48];
    const char *act = a && a->id != CLNET_ACT_NONE && a->id != CLNET_ACT_SOFTMAX
                          ? clnet__act_str(*a, act_text, sizeof act_text)
                          : NULL;
    size_t used = strlen(buf);
    if (!bias) {
        if (act)
            snprintf(buf + used, len - used, " + %s", act);
        used = strlen(buf);
        snprintf(buf + used, len - used, "%s", into);
        return;
    }
    /* A second input of an op with a bias epilogue is the residual (conv2d). */
    const int b = *bias, res = s->n_in > 1;
    if (b || res || act)
        snprintf(buf + used, len - used, " %s epilogue(%s%s%s%s%s)",
                 s->exec.epilogue_pass ? "+" : "with", b ? "bias" : "",
                 b && (res || act) ? ", " : "", res ? "residual" : "", res && act ? ", " : "",
                 act ? act : "");
    used = strlen(buf);
    if (a && a->id == CLNET_ACT_SOFTMAX)
        snprintf(buf + used, len - used, " + softmax");
    used = strlen(buf);
    snprintf(buf + used, len - used, "%s", into);
}

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

clnet_status clnet_model_plan_stats(clnet_model *m, int training, int batch, clnet_plan_stats *out)
{
    if (!m || !out || batch < 1)
        return m ? clnet__fail(m->ctx, CLNET_ERR_INVALID_ARG, "plan stats: batch must be >= 1")
                 : CLNET_ERR_INVALID_ARG;
    memset(out, 0, sizeof *out);
    clnet__plan *p = NULL;
    int slice = batch;
    CLNET_TRY(clnet__model_plan(m, training != 0, batch, &p, &slice));
    out->layers = p->layers;
    out->steps = p->n_steps;
    out->fused_bn = p->fused_bn;
    out->fused_activations = p->fused_act;
    out->fused_adds = p->fused_add;
    out->planned_bytes = p->planned_bytes;
    out->unplanned_bytes = p->unplanned_bytes;
    out->scratch_bytes = p->scratch_bytes;
    out->buffers = p->n_slots;
    out->backward_steps = p->backward_steps;
    out->frozen_batch_norms = p->frozen_stats;
    out->concat_in_place = p->concat_in_place;
    for (int i = 0; i < m->graph->n; ++i)
        if (m->graph->layers[i].op)
            out->layer_bytes += (training ? 2u : 1u) * sizeof(float) * (uint64_t)p->n *
                                clnet__shape_count(m->graph->layers[i].out);
    out->slices = (batch + slice - 1) / slice;
    return CLNET_OK;
}

/* Writes one view of a plan to f. */
typedef void (*plan_writer)(FILE *f, const clnet_model *m, const clnet__plan *p,
                            const clnet_plan_stats *ps);

/* Builds the plan of a mode for a batch and returns what writer makes of it, malloc'd. */
static clnet_status describe(clnet_model *m, int training, int batch, plan_writer writer,
                             char **text)
{
    if (!text)
        return CLNET_ERR_INVALID_ARG;
    *text = NULL;
    clnet_plan_stats ps;
    CLNET_TRY(clnet_model_plan_stats(m, training, batch, &ps));
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    writer(f, m, m->plans[training != 0], &ps);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return clnet__fail(m->ctx, CLNET_ERR_OUT_OF_MEMORY, "out of host memory");
    }
    *text = buf;
    return CLNET_OK;
}

static void write_table(FILE *f, const clnet_model *m, const clnet__plan *p,
                        const clnet_plan_stats *pstats)
{
    const clnet_plan_stats ps = *pstats;
    const int training = p->training;
    const clnet_device_info *d = &m->ctx->info;
    fprintf(f, "%s plan, batch %d%s, on %s (%s kernels)", training ? "Training" : "Inference", p->n,
            ps.slices > 1 ? " per slice" : "", d->name, clnet_device_class_name(m->ctx->cls));
    if (p->batch > p->n) /* a plan made for a larger batch serves this one */
        fprintf(f, ", buffers for %d", p->batch);
    fprintf(f, "\n");
    /* Each step as its prepare step recorded it: forward's kernels, in training backward's,
     * and the scratch (KiB, the larger direction's) the memory plan gives it. */
    fprintf(f, "%-5s %-58s %-44s ", "step", "layers (fused group)", "kernels");
    if (training)
        fprintf(f, "%-60s ", "backward");
    fprintf(f, "%-18s %-6s %s\n", "output", "buffer", "scratch KiB");
    for (int s = 0; s < p->n_steps; ++s) {
        const clnet__step *st = &p->steps[s];
        char group[512] = "", k[160], shape[48];
        for (int i = 0; i < st->n_members; ++i) {
            const size_t used = strlen(group);
            snprintf(group + used, sizeof group - used, "%s%s", i ? " + " : "",
                     m->graph->layers[st->members[i]].name);
        }
        clnet__step_kernels(m, p, st, k, sizeof k);
        const clnet__value *v = &p->values[st->out];
        snprintf(shape, sizeof shape, "%dx%dx%dx%d", v->view.shape.n, v->view.shape.h,
                 v->view.shape.w, v->view.shape.c);
        uint64_t scratch[2] = {0, 0};
        for (int dir = 0; dir < 2; ++dir)
            for (int i = 0; i < CLNET_SCRATCH_COUNT; ++i)
                scratch[dir] += st->scratch[dir].bytes[i];
        fprintf(f, "%-5d %-58s %-44s ", s, group, k);
        if (training)
            fprintf(f, "%-60s ", st->backward ? st->exec.backward : "(frozen: none)");
        fprintf(f, "%-18s %-6d %.0f\n", shape, p->values[clnet__value_storage(p, st->out)].slot,
                (double)(scratch[0] > scratch[1] ? scratch[0] : scratch[1]) / 1024.0);
    }
    fprintf(f,
            "\n%d layers in %d steps: %d batch norms folded, %d activations and %d residual "
            "adds fused\n",
            ps.layers, ps.steps, ps.fused_bn, ps.fused_activations, ps.fused_adds);
    fprintf(f,
            "%s memory: %.2f MiB in %d buffers, scratch included (unplanned: %.2f MiB with a "
            "buffer per tensor, %.2f MiB per layer unfused)\n",
            training ? "Activation + gradient" : "Peak activation", mib(ps.planned_bytes),
            ps.buffers, mib(ps.unplanned_bytes), mib(ps.layer_bytes));
    fprintf(f, "Scratch: at most %.2f MiB in one step, sharing the buffers above by liveness\n",
            mib(ps.scratch_bytes));
    if (training && (ps.backward_steps < ps.steps || ps.frozen_batch_norms))
        fprintf(f,
                "Frozen layers: backward runs in %d of %d steps, %d frozen batch norms run in "
                "inference mode\n",
                ps.backward_steps, ps.steps, ps.frozen_batch_norms);
    if (ps.concat_in_place)
        fprintf(f, "Concatenations in place: %d (their inputs written into their channels)\n",
                ps.concat_in_place);
    if (ps.slices > 1)
        fprintf(f, "The batch runs in %d slices of %d images (largest buffer %.1f MiB)\n",
                ps.slices, p->n, mib(d->max_alloc_bytes));
}

clnet_status clnet_model_plan_text(clnet_model *m, int training, int batch, char **text)
{
    return describe(m, training, batch, write_table, text);
}

/* DOT-escaped into buf: quotes, backslashes and HTML-ish characters of layer names. */
static const char *esc(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; *s && o + 7 < len; ++s) {
        const char *r = *s == '"' ? "\\\"" : *s == '\\' ? "\\\\" : NULL;
        if (r) {
            memcpy(buf + o, r, 2);
            o += 2;
        } else {
            buf[o++] = *s;
        }
    }
    buf[o] = '\0';
    return buf;
}

static void write_dot(FILE *f, const clnet_model *m, const clnet__plan *p,
                      const clnet_plan_stats *pstats)
{
    const clnet_plan_stats ps = *pstats;
    const int training = p->training;
    fprintf(f, "digraph plan {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", "
               "fontname=\"Helvetica\", fontsize=10, fillcolor=\"#eef3fb\"];\n");
    fprintf(f,
            "  label=\"%s plan, batch %d: %d layers in %d steps, %.2f MiB of buffers "
            "(unplanned %.2f MiB)\";\n  labelloc=t;\n",
            training ? "training" : "inference", p->n, ps.layers, ps.steps, mib(ps.planned_bytes),
            mib(ps.unplanned_bytes));
    char name[160], k[160];
    const clnet__value *in = &p->values[p->input];
    fprintf(f, "  v%d [shape=ellipse, fillcolor=\"#ffffff\", label=\"%s\\n%dx%dx%d\"];\n", p->input,
            esc(m->graph->layers[in->layer].name, name, sizeof name), in->view.shape.h,
            in->view.shape.w, in->view.shape.c);
    for (int s = 0; s < p->n_steps; ++s) {
        const clnet__step *st = &p->steps[s];
        const clnet__value *v = &p->values[st->out];
        clnet__step_kernels(m, p, st, k, sizeof k);
        fprintf(f, "  v%d [%slabel=\"", st->out,
                st->n_members > 1 ? "fillcolor=\"#d8ecd4\", " : "");
        for (int i = 0; i < st->n_members; ++i)
            fprintf(f, "%s%s", i ? " + " : "",
                    esc(m->graph->layers[st->members[i]].name, name, sizeof name));
        fprintf(f, "\\n%s\\n%dx%dx%d, buffer %d\"];\n", k, v->view.shape.h, v->view.shape.w,
                v->view.shape.c, p->values[clnet__value_storage(p, st->out)].slot);
        for (int i = 0; i < st->n_in; ++i)
            fprintf(f, "  v%d -> v%d%s;\n", clnet__value_owner(p, st->in[i]), st->out,
                    i == 1 ? " [style=dashed]" : "");
    }
    fprintf(f, "}\n");
}

clnet_status clnet_model_plan_dot(clnet_model *m, int training, int batch, char **text)
{
    return describe(m, training, batch, write_dot, text);
}
