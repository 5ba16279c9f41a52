/* plot.c - `thresh eval --plot FILE.svg`: the ROC curve and the score
 * histograms of spam and ham with the cutoffs marked, as plain SVG written
 * here (no plotting library), for a site owner choosing cutoffs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define W 960
#define H 420
#define BINS 50

/* Panel geometry: x0, y0 the top-left of the plot area, w, h its size. */
struct panel {
	double x0, y0, w, h;
};

static double px(const struct panel *p, double x)
{
	return p->x0 + x * p->w;
}

static double py(const struct panel *p, double y)
{
	return p->y0 + (1 - y) * p->h;
}

static void axes(FILE *f, const struct panel *p, const char *title, const char *xl, const char *yl)
{
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n",
	        p->x0, p->y0, p->w, p->h);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n",
	        p->x0 + p->w / 2, p->y0 - 12, title);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", p->x0 + p->w / 2,
	        p->y0 + p->h + 36, xl);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 %.1f %.1f)\">%s</text>\n",
	        p->x0 - 40, p->y0 + p->h / 2, p->x0 - 40, p->y0 + p->h / 2, yl);
	for (int i = 0; i <= 4; i++) {
		double v = i / 4.0;
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%.2f</text>\n",
		        px(p, v), p->y0 + p->h + 16, v);
	}
}

int write_plot(const char *path, const struct scored *s, size_t n, size_t nspam, size_t nham,
               double hold, double reject, double auc)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return ENAMETOOLONG;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return errno;
	struct panel roc = {70, 40, 340, 330}, hist = {530, 40, 400, 330};

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	           "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n"
	           "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H, W, H);

	/* ROC: s is sorted by score ascending; sweep the cutoff from the top. */
	axes(f, &roc, "ROC curve", "false positive rate (ham at or over a cutoff)",
	     "true positive rate (spam at or over a cutoff)");
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\" stroke-dasharray=\"4 4\"/>\n",
	        px(&roc, 0), py(&roc, 0), px(&roc, 1), py(&roc, 1));
	fprintf(f, "<polyline fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"2\" points=\"%.1f,%.1f",
	        px(&roc, 0), py(&roc, 0));
	size_t tp = 0, fp = 0;
	double cut_pt[2][2] = {{-1, -1}, {-1, -1}};
	for (size_t i = n; i-- > 0;) {
		if (s[i].label == THRESH_SPAM)
			tp++;
		else
			fp++;
		if (i > 0 && s[i - 1].score == s[i].score)
			continue; /* ties move together */
		double x = nham ? (double)fp / (double)nham : 0, y = nspam ? (double)tp / (double)nspam : 0;
		fprintf(f, " %.1f,%.1f", px(&roc, x), py(&roc, y));
		double below = i > 0 ? s[i - 1].score : -1;
		for (int k = 0; k < 2; k++) {
			double c = k ? reject : hold;
			if (s[i].score >= c && below < c) {
				cut_pt[k][0] = x;
				cut_pt[k][1] = y;
			}
		}
	}
	fprintf(f, "\"/>\n");
	static const char *const cut_name[2] = {"hold", "reject"};
	static const char *const cut_color[2] = {"#d29922", "#cf222e"};
	for (int k = 0; k < 2; k++)
		if (cut_pt[k][0] >= 0)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>"
			           "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-size=\"12\">%s %.2f</text>\n",
			        px(&roc, cut_pt[k][0]), py(&roc, cut_pt[k][1]), cut_color[k],
			        px(&roc, cut_pt[k][0]) + 8, py(&roc, cut_pt[k][1]) + 14 + 14 * k, cut_color[k],
			        cut_name[k], k ? reject : hold);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">AUC %.4f</text>\n", px(&roc, 1) - 8,
	        py(&roc, 0) - 10, auc);

	/* Histograms: share of each class per bin, so both fit one scale. */
	size_t bins[2][BINS] = {{0}};
	for (size_t i = 0; i < n; i++) {
		int b = (int)(s[i].score * BINS);
		bins[s[i].label == THRESH_SPAM][b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
	}
	double top = 0;
	for (int l = 0; l < 2; l++)
		for (int b = 0; b < BINS; b++) {
			double v = (double)bins[l][b] / (double)(l ? (nspam ? nspam : 1) : (nham ? nham : 1));
			if (v > top)
				top = v;
		}
	if (top <= 0)
		top = 1;
	axes(f, &hist, "Scores of ham and spam", "score", "share of the class");
	static const char *const cls_color[2] = {"#2da44e", "#8250df"};
	for (int l = 0; l < 2; l++)
		for (int b = 0; b < BINS; b++) {
			double v = (double)bins[l][b] / (double)(l ? (nspam ? nspam : 1) : (nham ? nham : 1)) / top;
			if (v <= 0)
				continue;
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"0.55\"/>\n",
			        px(&hist, (double)b / BINS), py(&hist, v), hist.w / BINS, v * hist.h, cls_color[l]);
		}
	for (int k = 0; k < 2; k++) {
		double c = k ? reject : hold;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>"
		           "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" font-size=\"12\" text-anchor=\"%s\">%s %.2f</text>\n",
		        px(&hist, c), py(&hist, 1), px(&hist, c), py(&hist, 0), cut_color[k],
		        px(&hist, c) + (k ? 4 : -4), py(&hist, 1) + 14, cut_color[k], k ? "start" : "end",
		        cut_name[k], c);
	}
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">ham (%zu)</text>\n",
	        hist.x0 + 10, hist.y0 + 26, cls_color[0], hist.x0 + 28, hist.y0 + 37, nham);
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">spam (%zu)</text>\n",
	        hist.x0 + 10, hist.y0 + 44, cls_color[1], hist.x0 + 28, hist.y0 + 55, nspam);
	fprintf(f, "</svg>\n");

	int e = ferror(f) ? EIO : 0;
	if (fclose(f) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e)
		unlink(tmp);
	return e;
}
