/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report/profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/rank.h"
#include "formats/folded.h"
#include "formats/pprof.h"
#include "formats/speedscope.h"
#include "lib/json.h"
#include "lib/banned.h"

void ct_report_pframe_name(struct ct_buf *out, const struct ct_pframe *f)
{
	size_t n = strlen(f->name);
	/* a frame without a symbol is named after its module in brackets, FlameGraph's way, which
	 * brackets the vdso twice ("[[vdso]]"); people read the module's own name */
	if (n >= 4 && strncmp(f->name, "[[", 2) == 0 && strcmp(f->name + n - 2, "]]") == 0)
		ct_buf_append(out, f->name + 1, n - 2);
	else
		ct_buf_puts(out, f->name);
	switch (f->kind) {
	case CT_PFRAME_INLINED: ct_buf_puts(out, " [inlined]"); break;
	case CT_PFRAME_JIT: ct_buf_puts(out, " [jit]"); break;
	case CT_PFRAME_KERNEL:
		if (f->name[0] != '[') /* "[kernel]" says it already */
			ct_buf_puts(out, " [kernel]");
		break;
	default: break;
	}
}

/* A Python or Ruby frame's name already ends with its place, "spin (app.py:34)": no second one */
static bool name_has_file(const struct ct_pframe *f)
{
	return f->name && f->file && strstr(f->name, f->file);
}

void ct_report_profile_text(const struct ct_profile *p, const struct ct_profile_meta *m, struct ct_buf *out)
{
	ct_buf_printf(out, "%s: %" PRIu64 " samples (%s sampler, %u Hz)\n", m->title, p->total,
		      m->sampler, m->rate_hz);
	if (!p->total || !p->nframes)
		return;
	struct ct_prank r;
	struct ct_prank_opts o = { NULL, 0, CT_PRANK_ALL, CT_PRANK_SELF };
	if (ct_profile_rank(p, &o, &r) < 0) {
		out->err = -ENOMEM;
		return;
	}
	ct_buf_puts(out, "\n   self%   total%  function\n");
	for (size_t i = 0; i < r.n && i < 30 && r.rows[i].self; i++) {
		const struct ct_pframe *f = &p->frames[r.rows[i].frame];
		ct_buf_printf(out, "  %6.2f  %6.2f   ", 100.0 * (double)r.rows[i].self / (double)p->total,
			      100.0 * (double)r.rows[i].total / (double)p->total);
		ct_report_pframe_name(out, f);
		if (f->file && !name_has_file(f))
			ct_buf_printf(out, "  (%s)", f->file);
		ct_buf_putc(out, '\n');
	}
	ct_prank_free(&r);
}

int ct_report_profile(enum ct_format fmt, const struct ct_profile *p, const struct ct_profile_meta *m,
		      struct ct_buf *out)
{
	switch (fmt) {
	case CT_FMT_FOLDED:
		return ct_pwrite_folded(p, out);
	case CT_FMT_TEXT:
		ct_report_profile_text(p, m, out);
		return 0;
	case CT_FMT_SVG:
		ct_report_profile_svg(p, m, out);
		return 0;
	case CT_FMT_SPEEDSCOPE:
		return ct_pwrite_speedscope(p, m->title, out);
	case CT_FMT_JSON:
		ct_report_profile_json(p, m, out);
		return 0;
	case CT_FMT_PPROF:
		return ct_pwrite_pprof(p, out);
	default:
		return -EINVAL;
	}
}

/* ---- svg: a flame graph, self-contained (inline script for search, zoom and tooltips) ---- */

struct fnode {
	uint32_t frame;
	uint64_t count;
	size_t first_child, next_sibling; /* indexes into the node array, 0 = none */
	size_t last_child;
};

struct ftree {
	struct fnode *n;
	size_t len, cap;
	int err;
};

static size_t ftree_child(struct ftree *t, size_t parent, uint32_t frame)
{
	/* stacks come sorted root-first, so a child equal to the frame is the last one added */
	size_t last = t->n[parent].last_child;
	if (last && t->n[last].frame == frame)
		return last;
	for (size_t c = t->n[parent].first_child; c; c = t->n[c].next_sibling)
		if (t->n[c].frame == frame)
			return c;
	if (ct_grow(&t->n, &t->cap, t->len + 1, sizeof(*t->n)) < 0) {
		t->err = -ENOMEM;
		return 0;
	}
	size_t id = t->len++;
	memset(&t->n[id], 0, sizeof(t->n[id]));
	t->n[id].frame = frame;
	if (last)
		t->n[last].next_sibling = id;
	else
		t->n[parent].first_child = id;
	t->n[parent].last_child = id;
	return id;
}

static int ftree_build(const struct ct_profile *p, struct ftree *t)
{
	memset(t, 0, sizeof(*t));
	if (ct_grow(&t->n, &t->cap, 1, sizeof(*t->n)) < 0)
		return -ENOMEM;
	memset(&t->n[0], 0, sizeof(t->n[0]));
	t->n[0].frame = UINT32_MAX; /* "all" */
	t->len = 1;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		size_t cur = 0;
		t->n[0].count += ct_folded_value(p, s);
		for (uint32_t j = 0; j < s->n; j++) {
			cur = ftree_child(t, cur, s->frames[j]);
			if (t->err) {
				free(t->n);
				return t->err;
			}
			t->n[cur].count += ct_folded_value(p, s);
		}
	}
	return 0;
}

static void xml_escape(struct ct_buf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': ct_buf_puts(out, "&amp;"); break;
		case '<': ct_buf_puts(out, "&lt;"); break;
		case '>': ct_buf_puts(out, "&gt;"); break;
		case '"': ct_buf_puts(out, "&quot;"); break;
		default:
			/* control characters are not allowed in XML 1.0 */
			ct_buf_putc(out, (unsigned char)*s < 0x20 ? ' ' : *s);
		}
	}
}

static void frame_color(const struct ct_pframe *f, char *buf, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *s = f->name; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	unsigned a = (unsigned)(h % 1000), b = (unsigned)((h >> 16) % 1000);
	switch (f->kind) {
	case CT_PFRAME_KERNEL: snprintf(buf, n, "rgb(%u,%u,%u)", 200 + a % 55, 140 + b % 60, 40); break;
	case CT_PFRAME_INLINED: snprintf(buf, n, "rgb(%u,%u,%u)", 80 + a % 50, 190 + b % 50, 190 + a % 50); break;
	case CT_PFRAME_JIT: snprintf(buf, n, "rgb(%u,%u,%u)", 60 + a % 50, 190 + b % 60, 60 + a % 40); break;
	case CT_PFRAME_ROOT: /* fall through */
	case CT_PFRAME_THREAD: snprintf(buf, n, "rgb(%u,%u,%u)", 200, 200, 210); break;
	default: snprintf(buf, n, "rgb(%u,%u,%u)", 205 + a % 50, b % 230, a % 55); break;
	}
}

#define SVG_W 1200
#define SVG_PAD 10
#define SVG_FH 16

static const char svg_script[] =
	"<script type=\"text/ecmascript\"><![CDATA[\n"
	"'use strict';\n"
	"var W=" "1180" ",P=10,total,frames,details,matchedtxt,zoomed=null;\n"
	"function init(){frames=document.querySelectorAll('g.f');details=document.getElementById('details');\n"
	" matchedtxt=document.getElementById('matched');total=+document.getElementById('all').getAttribute('data-w');\n"
	" frames.forEach(function(g){g.addEventListener('click',function(){zoom(g);});\n"
	"  g.addEventListener('mouseover',function(){details.textContent=g.querySelector('title').textContent;});\n"
	"  g.addEventListener('mouseout',function(){details.textContent=' ';});});\n"
	" document.getElementById('reset').addEventListener('click',function(){zoom(null);});\n"
	" document.getElementById('search').addEventListener('click',search);\n"
	" document.addEventListener('keydown',function(e){if((e.ctrlKey||e.metaKey)&&e.key==='f'){e.preventDefault();search();}});\n"
	" layout(0,total,0);}\n"
	"function fit(g,w){var t=g.querySelector('text'),n=g.getAttribute('data-n');var c=Math.floor((w-6)/7);\n"
	" t.textContent=c<3?'':(n.length<=c?n:n.substring(0,c-2)+'..');}\n"
	"function layout(x0,w0,d0){var s=W/w0;frames.forEach(function(g){\n"
	" var x=+g.getAttribute('data-x'),w=+g.getAttribute('data-w'),d=+g.getAttribute('data-d');\n"
	" var r=g.querySelector('rect'),t=g.querySelector('text');\n"
	" var inside=x>=x0&&x+w<=x0+w0,above=x<=x0&&x+w>=x0+w0&&d<d0;\n"
	" if(!inside&&!above){g.style.display='none';return;}\n"
	" g.style.display='';var px=above?P:P+(x-x0)*s,pw=above?W:w*s;\n"
	" if(pw<0.3){g.style.display='none';return;}\n"
	" r.setAttribute('x',px);r.setAttribute('width',Math.max(pw-0.5,0.1));t.setAttribute('x',px+3);fit(g,pw);\n"
	" g.style.opacity=above&&zoomed?0.5:1;});}\n"
	"function zoom(g){zoomed=g;document.getElementById('reset').style.display=g?'':'none';\n"
	" if(!g){layout(0,total,0);return;}\n"
	" layout(+g.getAttribute('data-x'),+g.getAttribute('data-w'),+g.getAttribute('data-d'));}\n"
	"function search(){var term=prompt('Search for (regular expression):','');if(term===null)return;\n"
	" var re;try{re=new RegExp(term);}catch(e){alert(e);return;}\n"
	" var spans=[];frames.forEach(function(g){var r=g.querySelector('rect');\n"
	"  if(term&&re.test(g.getAttribute('data-n'))){r.setAttribute('fill','rgb(230,0,230)');\n"
	"   spans.push([+g.getAttribute('data-x'),+g.getAttribute('data-w')]);}\n"
	"  else r.setAttribute('fill',g.getAttribute('data-c'));});\n"
	" spans.sort(function(a,b){return a[0]-b[0];});var m=0,end=-1;\n"
	" spans.forEach(function(s){if(s[0]>=end){m+=s[1];end=s[0]+s[1];}else if(s[0]+s[1]>end){m+=s[0]+s[1]-end;end=s[0]+s[1];}});\n"
	" matchedtxt.textContent=term?'Matched: '+(100*m/total).toFixed(1)+'%':'';}\n"
	"window.addEventListener('load',init);\n"
	"]]></script>\n";

static void svg_node(const struct ct_profile *p, const struct ftree *t, size_t id, uint64_t x,
		     unsigned depth, unsigned max_depth, struct ct_buf *out)
{
	const struct fnode *n = &t->n[id];
	const struct ct_pframe *f = n->frame == UINT32_MAX ? NULL : &p->frames[n->frame];
	const char *name = f ? f->name : "all";
	char color[32];
	if (f)
		frame_color(f, color, sizeof(color));
	else
		snprintf(color, sizeof(color), "rgb(230,230,230)");
	double scale = (double)(SVG_W - 2 * SVG_PAD) / (double)(t->n[0].count ? t->n[0].count : 1);
	double px = SVG_PAD + (double)x * scale, pw = (double)n->count * scale;
	unsigned y = 60 + (max_depth - depth) * SVG_FH;
	ct_buf_printf(out, "<g class=\"f\"%s data-x=\"%" PRIu64 "\" data-w=\"%" PRIu64 "\" data-d=\"%u\" data-c=\"%s\" data-n=\"",
		      id == 0 ? " id=\"all\"" : "", x, n->count, depth, color);
	xml_escape(out, name);
	ct_buf_puts(out, ct_folded_suffix(f ? f->kind : CT_PFRAME_NORMAL));
	ct_buf_puts(out, "\"><title>");
	xml_escape(out, name);
	ct_buf_puts(out, ct_folded_suffix(f ? f->kind : CT_PFRAME_NORMAL));
	ct_buf_printf(out, " (%" PRIu64 " %s%s, %.2f%%)", n->count, p->alloc ? "byte" : "sample",
		      n->count == 1 ? "" : "s",
		      100.0 * (double)n->count / (double)(t->n[0].count ? t->n[0].count : 1));
	if (f && f->file && !name_has_file(f)) {
		ct_buf_putc(out, ' ');
		xml_escape(out, f->file);
	}
	ct_buf_printf(out, "</title><rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%u\" fill=\"%s\" rx=\"2\"/>"
		      "<text x=\"%.1f\" y=\"%u\">", px, y, pw > 0.5 ? pw - 0.5 : pw, SVG_FH - 1, color, px + 3,
		      y + SVG_FH - 4);
	/* the label as the script's fit() would cut it, so viewers without scripts show it too */
	char label[512];
	snprintf(label, sizeof(label), "%s%s", name, ct_folded_suffix(f ? f->kind : CT_PFRAME_NORMAL));
	long fit = (long)((pw - 6) / 7);
	size_t len = strlen(label);
	if (fit >= 3) {
		if ((size_t)fit < len) {
			label[fit - 2] = '\0';
			xml_escape(out, label);
			ct_buf_puts(out, "..");
		} else {
			xml_escape(out, label);
		}
	}
	ct_buf_puts(out, "</text></g>\n");
	uint64_t cx = x;
	for (size_t c = n->first_child; c; c = t->n[c].next_sibling) {
		svg_node(p, t, c, cx, depth + 1, max_depth, out);
		cx += t->n[c].count;
	}
}

static unsigned ftree_depth(const struct ct_profile *p)
{
	unsigned d = 0;
	for (size_t i = 0; i < p->nstacks; i++)
		d = CT_MAX(d, p->stacks[i].n);
	return d;
}

void ct_report_profile_svg(const struct ct_profile *p, const struct ct_profile_meta *m, struct ct_buf *out)
{
	struct ftree t;
	if (ftree_build(p, &t) < 0) {
		out->err = -ENOMEM;
		return;
	}
	unsigned max_depth = ftree_depth(p);
	unsigned height = 60 + (max_depth + 1) * SVG_FH + 40;
	ct_buf_printf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		      "<svg version=\"1.1\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		      "xmlns=\"http://www.w3.org/2000/svg\">\n", SVG_W, height, SVG_W, height);
	ct_buf_puts(out, "<style>text{font-family:Verdana,sans-serif;font-size:12px;fill:#000}"
		    "g.f{cursor:pointer}g.f:hover rect{stroke:#000;stroke-width:0.5}"
		    "#title{font-size:17px;text-anchor:middle}.btn{cursor:pointer;fill:#333}</style>\n");
	ct_buf_puts(out, svg_script);
	ct_buf_printf(out, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"#f8f8f0\"/>\n", SVG_W, height);
	ct_buf_printf(out, "<text id=\"title\" x=\"%u\" y=\"24\">", SVG_W / 2);
	xml_escape(out, m->title);
	if (p->alloc)
		ct_buf_printf(out, "</text>\n<text x=\"%u\" y=\"44\" style=\"text-anchor:middle;font-size:11px\">"
			      "%" PRIu64 " bytes requested in %" PRIu64 " calls, %.1f s (widths: bytes)</text>\n",
			      SVG_W / 2, p->total_weight, p->total, (double)p->duration_ns / 1e9);
	else
		ct_buf_printf(out, "</text>\n<text x=\"%u\" y=\"44\" style=\"text-anchor:middle;font-size:11px\">"
			      "%" PRIu64 " samples, %s sampler at %u Hz, %.1f s</text>\n", SVG_W / 2, p->total,
			      m->sampler, m->rate_hz, (double)p->duration_ns / 1e9);
	ct_buf_printf(out, "<text id=\"reset\" class=\"btn\" x=\"%u\" y=\"24\" style=\"display:none\">Reset Zoom</text>\n"
		      "<text id=\"search\" class=\"btn\" x=\"%u\" y=\"24\" style=\"text-anchor:end\">Search</text>\n"
		      "<text id=\"matched\" x=\"%u\" y=\"%u\" style=\"text-anchor:end\"></text>\n"
		      "<text id=\"details\" x=\"%u\" y=\"%u\"> </text>\n", SVG_PAD, SVG_W - SVG_PAD,
		      SVG_W - SVG_PAD, height - 12, SVG_PAD, height - 12);
	svg_node(p, &t, 0, 0, 0, max_depth, out);
	ct_buf_puts(out, "</svg>\n");
	free(t.n);
}

/* ---- json: ctrace's own (documented in ctrace(1)) ---- */

static const char *kind_name(enum ct_pframe_kind k)
{
	switch (k) {
	case CT_PFRAME_INLINED: return "inlined";
	case CT_PFRAME_JIT: return "jit";
	case CT_PFRAME_KERNEL: return "kernel";
	case CT_PFRAME_ROOT: return "process";
	case CT_PFRAME_THREAD: return "thread";
	default: return "function";
	}
}

void ct_report_profile_json(const struct ct_profile *p, const struct ct_profile_meta *m, struct ct_buf *out)
{
	struct ct_json j;
	ct_json_init(&j, out);
	ct_json_obj_begin(&j);
	ct_json_key(&j, "version");
	ct_json_int(&j, 1);
	ct_json_key(&j, "kind");
	ct_json_str(&j, "profile");
	ct_json_key(&j, "title");
	ct_json_str(&j, m->title);
	ct_json_key(&j, "sampler");
	ct_json_str(&j, m->sampler);
	ct_json_key(&j, "mode");
	ct_json_str(&j, p->alloc ? "alloc" : p->wall ? "wall" : "cpu");
	ct_json_key(&j, "rate_hz");
	ct_json_uint(&j, m->rate_hz);
	if (p->alloc) {
		ct_json_key(&j, "period_calls");
		ct_json_uint(&j, m->period_calls);
	}
	ct_json_key(&j, "period_ns");
	ct_json_uint(&j, p->period_ns);
	ct_json_key(&j, "start_unix_ns");
	ct_json_uint(&j, p->start_ns);
	ct_json_key(&j, "duration_ns");
	ct_json_uint(&j, p->duration_ns);
	ct_json_key(&j, "samples");
	ct_json_uint(&j, p->total);
	ct_json_key(&j, "samples_expected");
	if (m->samples_requested)
		ct_json_uint(&j, m->samples_requested);
	else
		ct_json_null(&j);
	ct_json_key(&j, p->alloc ? "bytes" : "weight_ns");
	ct_json_uint(&j, p->total_weight);
	ct_json_key(&j, "frames");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nframes; i++) {
		const struct ct_pframe *f = &p->frames[i];
		ct_json_obj_begin(&j);
		ct_json_key(&j, "name");
		ct_json_str(&j, f->name);
		ct_json_key(&j, "kind");
		ct_json_str(&j, kind_name(f->kind));
		ct_json_key(&j, "module");
		ct_json_str(&j, f->module);
		ct_json_key(&j, "file");
		ct_json_str(&j, f->file);
		ct_json_key(&j, "line");
		ct_json_int(&j, f->line);
		ct_json_obj_end(&j);
	}
	ct_json_arr_end(&j);
	ct_json_key(&j, "stacks");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		ct_json_obj_begin(&j);
		ct_json_key(&j, "frames");
		ct_json_arr_begin(&j);
		for (uint32_t k = 0; k < s->n; k++)
			ct_json_uint(&j, s->frames[k]);
		ct_json_arr_end(&j);
		ct_json_key(&j, "count");
		ct_json_uint(&j, s->count);
		ct_json_key(&j, p->alloc ? "bytes" : "weight_ns");
		ct_json_uint(&j, s->weight);
		ct_json_obj_end(&j);
	}
	ct_json_arr_end(&j);
	ct_json_obj_end(&j);
	ct_buf_putc(out, '\n');
}
