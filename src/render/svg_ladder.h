/* synack — SVG output: the ladder diagram as SVG (a backend of the ladder renderer, fed the
 * same interpreted events as the text one, see ladder_backend.h), and the small SVG helpers
 * the time-sequence graph and the HTML report share.
 *
 * Every document is self-contained (no fonts, styles or scripts from the network) and
 * well-formed XML. Standalone documents carry a few lines of inline JavaScript for zooming
 * with the wheel and panning by dragging (double-click resets); the picture is the same
 * without it.
 */
#ifndef SYNACK_RENDER_SVG_LADDER_H
#define SYNACK_RENDER_SVG_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct synack_ladder_backend;

/* The ladder as a standalone SVG document, and as an HTML page holding it. */
extern const struct synack_ladder_backend synack_ladder_svg_backend;
extern const struct synack_ladder_backend synack_ladder_html_backend;

/* Writes s with &, <, >, " and ' escaped, control characters dropped. */
void synack_svg_text(FILE *f, const char *s);
/* The opening <svg> tag with a viewBox of w x h. standalone: with the XML declaration and
 * the zoom script (a standalone file); otherwise an element to inline in HTML (the report
 * adds the script once). */
void synack_svg_open(FILE *f, double w, double h, bool standalone, const char *title);
void synack_svg_close(FILE *f, bool standalone);
/* The zoom/pan script, inside <script> (CDATA-wrapped, valid in SVG and in HTML). It acts on
 * every <svg class="zoom"> of the document. */
void synack_svg_zoom_script(FILE *f);
/* The mapping the zoom script's range readout needs, as an empty <g class="zaxes"> inside the
 * picture: plot x0..x1 is time t0..t1 (µs since the capture began; shown divided by div, in
 * unit), and, when has_y, plot ybot..ytop is the values v0..v1 (bytes of sequence space). */
void synack_svg_zoom_axes(FILE *f, double x0, double x1, uint64_t t0_us, uint64_t t1_us,
			  double div, const char *unit, bool has_y, double ybot, double ytop,
			  int64_t v0, int64_t v1);
/* The CSS the SVG pictures use, inside <style> (valid in SVG and in HTML). */
void synack_svg_style(FILE *f);

#endif
