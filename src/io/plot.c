/* plot.c - PNG charts without a plotting library: the training curves of clnet_fit
 * (clnet_plot_history) and the confusion matrix of clnet_evaluate (clnet_plot_confusion),
 * drawn into an RGB buffer by a small anti-aliased canvas with an embedded 5x8 font and
 * encoded by stb_image_write. Tests: tests/unit/test_plot.c. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "clnet.h"
#include "io/plot.h"

/* ASCII 32..126 in 5 columns x 8 rows: byte k of a glyph, counted from the most
 * significant, is row k (rows 0-6 stand on the baseline, row 7 is the descender of g, j,
 * p, q, y and the comma); bit 4 of a row is its leftmost column. */
static const uint64_t font[95] = {
    0x0000000000000000, 0x0404040404000400, 0x0a0a0a0000000000, 0x0a0a1f0a1f0a0a00, /*   ! " # */
    0x040f140e051e0400, 0x1819020408130300, 0x0c12140815120d00, 0x0404040000000000, /* $ % & ' */
    0x0204080808040200, 0x0804020202040800, 0x0004150e15040000, 0x0004041f04040000, /* ( ) * + */
    0x00000000000c0408, 0x0000001f00000000, 0x00000000000c0c00, 0x0001020408100000, /* , - . / */
    0x0e11131519110e00, 0x040c040404040e00, 0x0e11010204081f00, 0x1f02040201110e00, /* 0 1 2 3 */
    0x02060a121f020200, 0x1f101e0101110e00, 0x0608101e11110e00, 0x1f01020408080800, /* 4 5 6 7 */
    0x0e11110e11110e00, 0x0e11110f01020c00, 0x000c0c000c0c0000, 0x000c0c000c040800, /* 8 9 : ; */
    0x0204081008040200, 0x00001f001f000000, 0x0804020102040800, 0x0e11010204000400, /* < = > ? */
    0x0e11010d15150e00, 0x0e11111f11111100, 0x1e11111e11111e00, 0x0e11101010110e00, /* @ A B C */
    0x1c12111111121c00, 0x1f10101e10101f00, 0x1f10101e10101000, 0x0e11101711110f00, /* D E F G */
    0x1111111f11111100, 0x0e04040404040e00, 0x0702020202120c00, 0x1112141814121100, /* H I J K */
    0x1010101010101f00, 0x111b151511111100, 0x1111191513111100, 0x0e11111111110e00, /* L M N O */
    0x1e11111e10101000, 0x0e11111115120d00, 0x1e11111e14121100, 0x0f10100e01011e00, /* P Q R S */
    0x1f04040404040400, 0x1111111111110e00, 0x11111111110a0400, 0x1111111515150a00, /* T U V W */
    0x11110a040a111100, 0x11110a0404040400, 0x1f01020408101f00, 0x0e08080808080e00, /* X Y Z [ */
    0x0010080402010000, 0x0e02020202020e00, 0x040a110000000000, 0x000000000000001f, /* \ ] ^ _ */
    0x0804020000000000, 0x00000e010f110f00, 0x1010161911111e00, 0x00000e1010110e00, /* ` a b c */
    0x01010d1311110f00, 0x00000e111f100e00, 0x0609081c08080800, 0x00000f11110f010e, /* d e f g */
    0x1010161911111100, 0x04000c0404040e00, 0x020006020202120c, 0x1010121418141200, /* h i j k */
    0x0c04040404040e00, 0x00001a1515111100, 0x0000161911111100, 0x00000e1111110e00, /* l m n o */
    0x00001e11111e1010, 0x00000f11110f0101, 0x0000161910101000, 0x00000f100e011e00, /* p q r s */
    0x08081c0808090600, 0x0000111111130d00, 0x00001111110a0400, 0x0000111115150a00, /* t u v w */
    0x0000110a040a1100, 0x00001111110f010e, 0x00001f0204081f00, 0x0204040804040200, /* x y z { */
    0x0404040404040400, 0x0804040204040800, 0x0000081502000000,                     /* | } ~ */
};

#define CAP_H 7   /* font rows above the baseline: the height text is laid out with */
#define ADVANCE 6 /* font columns per character, the gap included */
#define MARGIN 20 /* pixels around a chart */
#define MAX_CLASSES 1000

typedef struct rgb {
    uint8_t r, g, b;
} rgb;

static const rgb paper = {255, 255, 255}, ink = {34, 34, 34}, muted = {105, 105, 105},
                 rule = {228, 228, 228}, frame_ink = {90, 90, 90}, faint = {190, 190, 190};
/* The train and validation curves (blue and orange stay apart for colour-blind eyes). */
static const rgb curve_rgb[2] = {{31, 119, 180}, {255, 127, 14}};

/* An RGB image, row-major, 3 bytes a pixel. mask holds the coverage (0..1) of the stroke
 * being drawn, so the overlapping ends of a polyline's segments are painted once;
 * [x0, x1) x [y0, y1) bounds where it is not zero. */
typedef struct canvas {
    int w, h;
    uint8_t *px;
    float *mask;
    int x0, y0, x1, y1;
} canvas;

static clnet_status canvas_init(canvas *c, int w, int h)
{
    c->w = w;
    c->h = h;
    c->px = malloc((size_t)w * h * 3);
    c->mask = calloc((size_t)w * h, sizeof *c->mask);
    c->x0 = w;
    c->y0 = h;
    c->x1 = c->y1 = 0;
    if (!c->px || !c->mask) {
        free(c->px);
        free(c->mask);
        return CLNET_ERR_OUT_OF_MEMORY;
    }
    memset(c->px, 255, (size_t)w * h * 3);
    return CLNET_OK;
}

static void canvas_free(canvas *c)
{
    free(c->px);
    free(c->mask);
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Pixels [x0, x1) x [y0, y1), clipped to the canvas. */
static void fill(canvas *c, int x0, int y0, int x1, int y1, rgb colour)
{
    x0 = clampi(x0, 0, c->w);
    x1 = clampi(x1, 0, c->w);
    y0 = clampi(y0, 0, c->h);
    y1 = clampi(y1, 0, c->h);
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) {
            uint8_t *p = c->px + ((size_t)y * c->w + x) * 3;
            p[0] = colour.r;
            p[1] = colour.g;
            p[2] = colour.b;
        }
}

/* Adds to the mask the segment (ax, ay)-(bx, by) drawn width wide with round ends (a
 * point when both ends meet: a disc). Coordinates are continuous, pixel (x, y) covering
 * [x, x + 1) x [y, y + 1); the coverage falls from 1 to 0 across one pixel at the edge. */
static void stroke(canvas *c, double ax, double ay, double bx, double by, double width)
{
    const double r = width / 2, dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    const int x0 = clampi((int)floor(fmin(ax, bx) - r - 1), 0, c->w);
    const int x1 = clampi((int)ceil(fmax(ax, bx) + r + 1), 0, c->w);
    const int y0 = clampi((int)floor(fmin(ay, by) - r - 1), 0, c->h);
    const int y1 = clampi((int)ceil(fmax(ay, by) + r + 1), 0, c->h);
    for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) {
            const double px = x + 0.5 - ax, py = y + 0.5 - ay;
            const double t = len2 > 0 ? fmin(1, fmax(0, (px * dx + py * dy) / len2)) : 0;
            const double ex = px - t * dx, ey = py - t * dy;
            const float cover = (float)fmin(1, r + 0.5 - sqrt(ex * ex + ey * ey));
            float *m = c->mask + (size_t)y * c->w + x;
            if (cover > *m)
                *m = cover;
        }
    if (x0 < x1 && y0 < y1) {
        c->x0 = x0 < c->x0 ? x0 : c->x0;
        c->y0 = y0 < c->y0 ? y0 : c->y0;
        c->x1 = x1 > c->x1 ? x1 : c->x1;
        c->y1 = y1 > c->y1 ? y1 : c->y1;
    }
}

/* Blends colour over the canvas by the mask, then clears the mask. */
static void paint(canvas *c, rgb colour)
{
    const uint8_t rgb3[3] = {colour.r, colour.g, colour.b};
    for (int y = c->y0; y < c->y1; ++y)
        for (int x = c->x0; x < c->x1; ++x) {
            float *m = c->mask + (size_t)y * c->w + x;
            uint8_t *p = c->px + ((size_t)y * c->w + x) * 3;
            for (int k = 0; k < 3 && *m > 0; ++k)
                p[k] = (uint8_t)lround(p[k] + (rgb3[k] - p[k]) * (double)*m);
            *m = 0;
        }
    c->x0 = c->w;
    c->y0 = c->h;
    c->x1 = c->y1 = 0;
}

/* A marker: a disc of the curve's colour in a white ring that sets it off the lines. */
static void dot(canvas *c, double x, double y, rgb colour)
{
    stroke(c, x, y, x, y, 10);
    paint(c, paper);
    stroke(c, x, y, x, y, 7);
    paint(c, colour);
}

static int text_width(const char *s, int scale)
{
    const int n = (int)strlen(s);
    return n ? (n * ADVANCE - 1) * scale : 0;
}

/* Draws s, each font pixel a scale x scale square, with its box (text_width wide,
 * CAP_H * scale high; descenders hang below) placed so that (x, y) is at the fraction
 * (ax, ay) of it: (0, 0) top left, (0.5, 0.5) centre, (1, 1) bottom right. vertical:
 * turned a quarter anticlockwise, read from the bottom up (the box turns with it).
 * Characters outside ASCII 32..126 show as '?'. */
static void text(canvas *c, int x, int y, const char *s, int scale, double ax, double ay,
                 int vertical, rgb colour)
{
    const int tw = text_width(s, scale), th = CAP_H * scale, span = tw / scale;
    const int left = x - (int)lround(ax * (vertical ? th : tw));
    const int top = y - (int)lround(ay * (vertical ? tw : th));
    for (int i = 0; s[i]; ++i) {
        const unsigned ch = (unsigned char)s[i];
        const uint64_t glyph = font[(ch >= 32 && ch <= 126 ? ch : '?') - 32];
        for (int row = 0; row < 8; ++row)
            for (int col = 0; col < 5; ++col) {
                if (!((glyph >> (56 - 8 * row)) & (0x10u >> col)))
                    continue;
                const int along = i * ADVANCE + col; /* font pixels from the start */
                const int px = vertical ? left + row * scale : left + along * scale;
                const int py = vertical ? top + (span - 1 - along) * scale : top + row * scale;
                fill(c, px, py, px + scale, py + scale, colour);
            }
    }
}

/* s cut to at most max characters (a cut one ends in ".."), into buf. */
static void clip(const char *s, int max, char *buf, size_t len)
{
    if ((int)strlen(s) <= max)
        snprintf(buf, len, "%s", s);
    else
        snprintf(buf, len, "%.*s..", max > 2 ? max - 2 : 0, s);
}

/* The chart title centred on top, at triple size or, when too long for that, double
 * (cut to the width); returns the y below it. */
static int heading(canvas *c, const char *title)
{
    if (!title || !*title)
        return MARGIN;
    char buf[256];
    const int scale = text_width(title, 3) <= c->w - 2 * MARGIN ? 3 : 2;
    clip(title, (c->w - 2 * MARGIN) / (ADVANCE * scale), buf, sizeof buf);
    text(c, c->w / 2, MARGIN + CAP_H * (3 - scale), buf, scale, 0.5, 0, 0, ink);
    return MARGIN + CAP_H * 3 + 18;
}

typedef struct sink {
    FILE *f;
    int failed;
} sink;

static void sink_write(void *user, void *data, int size)
{
    sink *s = user;
    if (!s->failed && size > 0 && fwrite(data, 1, (size_t)size, s->f) != (size_t)size)
        s->failed = 1;
}

/* Encodes c as PNG into "<path>.tmp.<pid>" and renames that over path; on failure the
 * temporary file is removed and path is left as it was. */
static clnet_status write_png(const canvas *c, const char *path)
{
    const size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp)
        return CLNET_ERR_OUT_OF_MEMORY;
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    sink s = {fopen(tmp, "wb"), 0};
    int ok = s.f != NULL;
    if (ok) {
        ok = stbi_write_png_to_func(sink_write, &s, c->w, c->h, 3, c->px, c->w * 3) && !s.failed;
        if (fclose(s.f) != 0)
            ok = 0;
        if (ok && rename(tmp, path) != 0)
            ok = 0;
        if (!ok)
            remove(tmp);
    }
    free(tmp);
    return ok ? CLNET_OK : CLNET_ERR_IO;
}

/* ---- training history ---- */

typedef clnet__plot_axis axis;

/* A round step (1, 2 or 5 times a power of ten) cutting span into about n intervals, or
 * at most n when at_most (labels that must not collide). */
static double nice_step(double span, int n, int at_most)
{
    const double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
    if (at_most)
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* The rule is stated in plot.h. */
axis clnet__plot_value_axis(double min, double max, int zero_based)
{
    if (!(min <= max))
        min = 0, max = 1;
    const int unit = !zero_based && min >= 0 && max <= 1;
    if (zero_based && min > 0)
        min = 0;
    if (unit) {
        axis a;
        a.lo = min >= 0.5 ? floor((min - 0.01) * 10 + 1e-9) / 10 : 0;
        a.hi = 1;
        a.step = nice_step((a.hi - a.lo) * 1.06, 5, 0);
        a.decimals = (int)ceil(-log10(a.step) - 1e-9);
        return a;
    }
    double span = max - min;
    if (span < 1e-12) { /* flat: a range around the value */
        span = fabs(max) > 1e-12 ? fabs(max) / 5 : 1;
        min -= zero_based ? 0 : span / 2;
        max += span / 2;
    }
    axis a;
    a.step = nice_step(span * 1.06, 5, 0);
    a.lo = zero_based && min >= 0 ? 0 : floor((min - 0.03 * span) / a.step) * a.step;
    a.hi = ceil((max + 0.03 * span) / a.step) * a.step;
    if (a.hi <= a.lo)
        a.hi = a.lo + a.step;
    a.decimals = a.step >= 1 ? 0 : (int)ceil(-log10(a.step) - 1e-9);
    return a;
}

/* One panel: the plot box in pixels, epochs xlo..xhi across, the value axis up. */
typedef struct panel {
    int left, top, right, bottom;
    double xlo, xhi;
    axis y;
} panel;

static double panel_x(const panel *p, double epoch)
{
    return p->left + (epoch - p->xlo) / (p->xhi - p->xlo) * (p->right - p->left);
}

static double panel_y(const panel *p, double v)
{
    return p->bottom - (v - p->y.lo) / (p->y.hi - p->y.lo) * (p->bottom - p->top);
}

/* The k-th tick of a, or NAN past the end. */
static double tick(const axis *a, int k)
{
    const double v = (ceil(a->lo / a->step - 1e-9) + k) * a->step;
    return v <= a->hi + 1e-9 * a->step ? v : NAN;
}

/* One curve through the finite values (a gap at the others; epoch i + 1 is v[i]), with
 * a marker at each point unless they crowd, and always at an isolated point. */
static void curve(canvas *c, const panel *p, const double *v, int n, rgb colour)
{
    if (!v)
        return;
    for (int i = 1; i < n; ++i)
        if (isfinite(v[i - 1]) && isfinite(v[i]))
            stroke(c, panel_x(p, i), panel_y(p, v[i - 1]), panel_x(p, i + 1), panel_y(p, v[i]),
                   2.5);
    paint(c, colour);
    const int crowded = n > 1 && panel_x(p, 2) - panel_x(p, 1) < 11;
    for (int i = 0; i < n; ++i) {
        const int alone = (i == 0 || !isfinite(v[i - 1])) && (i == n - 1 || !isfinite(v[i + 1]));
        if (isfinite(v[i]) && (!crowded || alone))
            dot(c, panel_x(p, i + 1), panel_y(p, v[i]), colour);
    }
}

/* The key above the panels: a line and marker of each curve's colour, then its name. */
static void legend(canvas *c, int y, int curves)
{
    static const char *const names[2] = {"train", "validation"};
    int total = 0;
    for (int k = 0; k < curves; ++k)
        total += (k ? 36 : 0) + 34 + 10 + text_width(names[k], 2);
    int x = (c->w - total) / 2;
    for (int k = 0; k < curves; ++k) {
        const double mid = y + CAP_H;
        stroke(c, x, mid, x + 34, mid, 2.5);
        paint(c, curve_rgb[k]);
        dot(c, x + 17, mid, curve_rgb[k]);
        text(c, x + 44, y, names[k], 2, 0, 0, 0, ink);
        x += 34 + 10 + text_width(names[k], 2) + 36;
    }
}

/* The value axis of the curves v[0] and v[1] (either may be NULL) of n points. */
static axis curves_axis(const double *const v[2], int n, int zero_based)
{
    double min = INFINITY, max = -INFINITY;
    for (int k = 0; k < 2; ++k)
        for (int i = 0; v[k] && i < n; ++i)
            if (isfinite(v[k][i])) {
                min = fmin(min, v[k][i]);
                max = fmax(max, v[k][i]);
            }
    return clnet__plot_value_axis(min, max, zero_based);
}

/* The widest tick label of a, in pixels. */
static int label_width(const axis *a)
{
    int w = 0;
    for (int k = 0; !isnan(tick(a, k)); ++k) {
        char label[64];
        snprintf(label, sizeof label, "%.*f", a->decimals, tick(a, k));
        w = text_width(label, 2) > w ? text_width(label, 2) : w;
    }
    return w;
}

/* A panel in [x, x + w) from y down to the chart's bottom margin: its name on top, the
 * value axis (labels label_w wide, so that both panels line up) on the left, epochs
 * below, grid lines at the ticks, the curves v[0] (train) and v[1] (validation, may be
 * NULL). */
static void history_panel(canvas *c, int x, int y, int w, int label_w, const char *name,
                          const axis *a, const double *const v[2], int n)
{
    char label[64];
    panel p;
    p.y = *a;
    p.left = x + MARGIN + label_w + 12;
    p.right = x + w - MARGIN;
    p.top = y + CAP_H * 2 + 14;
    p.bottom = c->h - MARGIN - 2 * (CAP_H * 2) - 24;
    const double pad = n > 1 ? 0.03 * (n - 1) : 0.5;
    p.xlo = 1 - pad;
    p.xhi = n + pad;
    text(c, (p.left + p.right) / 2, y, name, 2, 0.5, 0, 0, ink);

    for (int k = 0; !isnan(tick(&p.y, k)); ++k) {
        const int ty = (int)floor(panel_y(&p, tick(&p.y, k)));
        fill(c, p.left, ty, p.right, ty + 1, rule);
        fill(c, p.left - 5, ty, p.left, ty + 1, frame_ink);
        snprintf(label, sizeof label, "%.*f", p.y.decimals, tick(&p.y, k));
        text(c, p.left - 9, ty, label, 2, 1, 0.5, 0, ink);
    }
    /* Whole epochs, a round step apart, as many as fit with room between labels. */
    snprintf(label, sizeof label, "%d", n);
    const int fit = (p.right - p.left) / (text_width(label, 2) + 16);
    const int step = n > 1 ? (int)fmax(1, nice_step(n - 1, fit > 1 ? fit : 1, 1)) : 1;
    for (int e = step; e <= n; e += step) {
        const int tx = (int)floor(panel_x(&p, e));
        fill(c, tx, p.top, tx + 1, p.bottom, rule);
        fill(c, tx, p.bottom, tx + 1, p.bottom + 5, frame_ink);
        snprintf(label, sizeof label, "%d", e);
        text(c, tx, p.bottom + 9, label, 2, 0.5, 0, 0, ink);
    }
    text(c, (p.left + p.right) / 2, c->h - MARGIN, "epoch", 2, 0.5, 1, 0, muted);
    fill(c, p.left, p.top, p.right + 1, p.top + 1, frame_ink);
    fill(c, p.left, p.bottom, p.right + 1, p.bottom + 1, frame_ink);
    fill(c, p.left, p.top, p.left + 1, p.bottom, frame_ink);
    fill(c, p.right, p.top, p.right + 1, p.bottom, frame_ink);
    curve(c, &p, v[0], n, curve_rgb[0]);
    curve(c, &p, v[1], n, curve_rgb[1]);
}

static int any_finite(const double *v, int n)
{
    for (int i = 0; v && i < n; ++i)
        if (isfinite(v[i]))
            return 1;
    return 0;
}

clnet_status clnet_plot_history(const char *path, const double *loss, const double *accuracy,
                                const double *val_loss, const double *val_accuracy, int epochs,
                                const char *title)
{
    if (!path || !*path || !loss || !accuracy || epochs < 1)
        return CLNET_ERR_INVALID_ARG;
    const int val = any_finite(val_loss, epochs) || any_finite(val_accuracy, epochs);
    canvas c;
    clnet_status st = canvas_init(&c, 1200, 540);
    if (st != CLNET_OK)
        return st;
    const int y = heading(&c, title);
    legend(&c, y, val ? 2 : 1);
    const double *const losses[2] = {loss, val ? val_loss : NULL};
    const double *const accuracies[2] = {accuracy, val ? val_accuracy : NULL};
    const axis a[2] = {curves_axis(losses, epochs, 1), curves_axis(accuracies, epochs, 0)};
    const int label_w =
        label_width(&a[0]) > label_width(&a[1]) ? label_width(&a[0]) : label_width(&a[1]);
    const int top = y + CAP_H * 2 + 26;
    history_panel(&c, 0, top, c.w / 2, label_w, "loss", &a[0], losses, epochs);
    history_panel(&c, c.w / 2, top, c.w / 2, label_w, "accuracy", &a[1], accuracies, epochs);
    st = write_png(&c, path);
    canvas_free(&c);
    return st;
}

/* ---- confusion matrix ---- */

/* White through light and mid blue to navy, for a row fraction v in [0, 1]. */
static rgb heat(double v)
{
    static const rgb stops[5] = {
        {247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
    const double at = fmin(1, fmax(0, v)) * 4;
    const int k = at >= 4 ? 3 : (int)at;
    const double t = at - k;
    const rgb a = stops[k], b = stops[k + 1];
    const rgb out = {(uint8_t)lround(a.r + (b.r - a.r) * t), (uint8_t)lround(a.g + (b.g - a.g) * t),
                     (uint8_t)lround(a.b + (b.b - a.b) * t)};
    return out;
}

/* Layout of the heat map: cells of cell pixels from (left, top); class names at scale
 * name_scale every stride classes, name_w pixels long at most, under the columns turned
 * unless they fit across a cell (then col_h is their height, else name_w); counts at
 * count_scale (0: they do not fit), zeros only at full size. */
typedef struct matrix {
    int classes, cell, left, top, name_scale, stride, name_w, turned, col_h, count_scale;
    const int64_t *counts;
    char (*names)[20];
} matrix;

/* The cells: the colour of each count's share of its row (the true class), the count
 * written in when it fits (white on dark cells, grey when 0). */
static void cells(canvas *c, const matrix *m)
{
    const int gap = m->cell >= 12 ? 1 : 0, n = m->classes;
    for (int i = 0; i < n; ++i) {
        int64_t row = 0;
        for (int j = 0; j < n; ++j)
            row += m->counts[(size_t)i * n + j];
        for (int j = 0; j < n; ++j) {
            const int64_t k = m->counts[(size_t)i * n + j];
            const double v = row ? (double)k / (double)row : 0;
            const int x = m->left + j * m->cell, y = m->top + i * m->cell;
            fill(c, x, y, x + m->cell - gap, y + m->cell - gap, heat(v));
            if (!m->count_scale || (k == 0 && m->count_scale < 2))
                continue;
            char num[24];
            snprintf(num, sizeof num, "%lld", (long long)k);
            const rgb colour = v > 0.5 ? paper : k ? ink : faint;
            text(c, x + (m->cell - gap) / 2, y + (m->cell - gap) / 2, num, m->count_scale, 0.5, 0.5,
                 0, colour);
        }
    }
}

/* Class names left of the rows and below the columns; the axis titles. */
static void class_axes(canvas *c, const matrix *m)
{
    const int grid = m->cell * m->classes;
    for (int k = 0; k < m->classes; k += m->stride) {
        const int mid = k * m->cell + m->cell / 2;
        text(c, m->left - 10, m->top + mid, m->names[k], m->name_scale, 1, 0.5, 0, ink);
        text(c, m->left + mid, m->top + grid + 10, m->names[k], m->name_scale, 0.5, 0, m->turned,
             ink);
    }
    text(c, MARGIN, m->top + grid / 2, "true", 2, 0, 0.5, 1, muted);
    text(c, m->left + grid / 2, m->top + grid + 10 + m->col_h + 14, "predicted", 2, 0.5, 0, 0,
         muted);
}

/* The colour scale right of the grid, from 0 (bottom) to 1 (top) of the row. */
static void colour_bar(canvas *c, const matrix *m, int x)
{
    const int grid = m->cell * m->classes;
    for (int y = 0; y < grid; ++y)
        fill(c, x, m->top + y, x + 18, m->top + y + 1, heat(1 - (y + 0.5) / grid));
    static const char *const ticks[3] = {"0", "0.5", "1"};
    for (int k = 0; k < 3; ++k) {
        const int ty = m->top + grid - (int)lround(k * 0.5 * (grid - 1)) - 1;
        fill(c, x + 18, ty, x + 22, ty + 1, frame_ink);
        text(c, x + 30, ty, ticks[k], 2, 0, 0.5, 0, ink);
    }
    if (text_width("share of the row", 2) <= grid)
        text(c, x + 30 + text_width("0.5", 2) + 14, m->top + grid / 2, "share of the row", 2, 0,
             0.5, 1, muted);
}

clnet_status clnet_plot_confusion(const char *path, const int64_t *confusion, int classes,
                                  const char *const *names, const char *title)
{
    if (!path || !*path || !confusion || classes < 1 || classes > MAX_CLASSES)
        return CLNET_ERR_INVALID_ARG;
    int64_t total = 0, hits = 0, most = 0;
    for (int i = 0; i < classes; ++i)
        for (int j = 0; j < classes; ++j) {
            const int64_t k = confusion[(size_t)i * classes + j];
            if (k < 0)
                return CLNET_ERR_INVALID_ARG;
            total += k;
            hits += i == j ? k : 0;
            most = k > most ? k : most;
        }
    matrix m;
    memset(&m, 0, sizeof m);
    m.classes = classes;
    m.counts = confusion;
    m.cell = clampi(640 / classes, 2, 120);
    m.name_scale = m.cell >= 20 ? 2 : 1;
    m.stride = m.cell >= 10 ? 1 : (10 + m.cell - 1) / m.cell;
    if (!(m.names = malloc((size_t)classes * sizeof *m.names)))
        return CLNET_ERR_OUT_OF_MEMORY;
    for (int k = 0; k < classes; ++k) {
        char index[16];
        snprintf(index, sizeof index, "%d", k);
        clip(names && names[k] ? names[k] : index, 16, m.names[k], sizeof m.names[k]);
        const int w = text_width(m.names[k], m.name_scale);
        m.name_w = k % m.stride == 0 && w > m.name_w ? w : m.name_w;
    }
    m.turned = m.name_w > m.cell * m.stride - 6;
    m.col_h = m.turned ? m.name_w : CAP_H * m.name_scale;
    char num[24];
    snprintf(num, sizeof num, "%lld", (long long)most);
    const int room = m.cell - (m.cell >= 12 ? 1 : 0) - 4;
    for (int s = 2; s >= 1 && !m.count_scale; --s)
        m.count_scale = text_width(num, s) <= room && CAP_H * s <= room ? s : 0;

    const int grid = m.cell * classes, bar_w = 18 + 12 + text_width("0.5", 2) + 14 + CAP_H * 2;
    m.left = MARGIN + CAP_H * 2 + 12 + m.name_w + 10;
    const int width = m.left + grid + 28 + bar_w + MARGIN;
    const int head = title && *title ? CAP_H * 3 + 18 : 0;
    const int height =
        MARGIN + head + CAP_H * 2 + 20 + grid + 10 + m.col_h + 14 + CAP_H * 2 + MARGIN;
    canvas c;
    clnet_status st = canvas_init(&c, width > 560 ? width : 560, height);
    if (st == CLNET_OK) {
        const int y = heading(&c, title);
        char line[96];
        if (total)
            snprintf(line, sizeof line, "%lld images, accuracy %.2f%%", (long long)total,
                     100.0 * (double)hits / (double)total);
        else
            snprintf(line, sizeof line, "no images");
        text(&c, c.w / 2, y, line, 2, 0.5, 0, 0, muted);
        m.top = y + CAP_H * 2 + 20;
        cells(&c, &m);
        class_axes(&c, &m);
        colour_bar(&c, &m, m.left + grid + 28);
        st = write_png(&c, path);
        canvas_free(&c);
    }
    free(m.names);
    return st;
}
