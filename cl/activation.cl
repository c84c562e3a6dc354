// activation.cl - kernels for src/ops/activation.c (the activation, leaky_relu and elu ops):
// one entry of the activation table (act_forward / act_backward in common.cl) over count
// elements, ELEMENTWISE mapping (common.cl): one element per work-item on GPUs,
// CLNET_CHUNK contiguous elements in VW steps per work-item on CPUs. act and alpha are the
// clnet__act of the op's params.

#define ACT_FWD_S(i) y[i] = act_forward(x[i], act, alpha);
#define ACT_FWD_V(i) VSTORE(act_forward_v(VLOAD(0, x + (i)), act, alpha), 0, y + (i));

kernel void activation_forward(global const float *x, global float *y, int count, int act,
                               float alpha)
{
    ELEMENTWISE(count, ACT_FWD_V, ACT_FWD_S)
}

// dx = dy * f'(x); v is the output y, or the input x where the table says FROM_INPUT.
#define ACT_BACK_S(i) dx[i] = act_backward(dy[i], v[i], act, alpha);
#define ACT_BACK_V(i)                                                                      \
    VSTORE(act_backward_v(VLOAD(0, dy + (i)), VLOAD(0, v + (i)), act, alpha), 0, dx + (i));

kernel void activation_backward(global const float *v, global const float *dy, global float *dx,
                                int count, int act, float alpha)
{
    ELEMENTWISE(count, ACT_BACK_V, ACT_BACK_S)
}
