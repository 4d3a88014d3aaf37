/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "report/profile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "formats/gzip.h"
#include "formats/protobuf.h"
#include "lib/json.h"
#include "lib/banned.h"

static const char *kind_suffix(enum ct_pframe_kind k)
{
	switch (k) {
	case CT_PFRAME_INLINED: return "_[i]";
	case CT_PFRAME_JIT: return "_[j]";
	case CT_PFRAME_KERNEL: return "_[k]";
	default: return "";
	}
}

/* A frame name as one folded field: no ';' (the separator) and no line breaks. */
static void folded_name(struct ct_buf *out, const struct ct_pframe *f)
{
	for (const char *s = f->name; *s; s++)
		ct_buf_putc(out, *s == ';' ? ':' : (*s == '\n' || *s == '\r') ? ' ' : *s);
	ct_buf_puts(out, kind_suffix(f->kind));
}

/* What a flame graph's widths stand for: samples, or bytes requested in an allocation profile. */
static uint64_t stack_value(const struct ct_profile *p, const struct ct_pstack *s)
{
	return p->alloc ? s->weight : s->count;
}

void ct_report_profile_folded(const struct ct_profile *p, struct ct_buf *out)
{
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		for (uint32_t j = 0; j < s->n; j++) {
			if (j)
				ct_buf_putc(out, ';');
			folded_name(out, &p->frames[s->frames[j]]);
		}
		ct_buf_printf(out, " %" PRIu64 "\n", stack_value(p, s));
	}
}

struct fn_count {
	uint32_t id;
	uint64_t self, total;
};

static int by_self(const void *a, const void *b)
{
	const struct fn_count *x = a, *y = b;
	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->id < y->id ? -1 : 1;
}

void ct_report_profile_text(const struct ct_profile *p, const struct ct_profile_meta *m, struct ct_buf *out)
{
	ct_buf_printf(out, "%s: %" PRIu64 " samples (%s sampler, %u Hz)\n", m->title, p->total,
		      m->sampler, m->rate_hz);
	if (!p->total || !p->nframes)
		return;
	struct fn_count *c = calloc(p->nframes, sizeof(*c));
	size_t *mark = calloc(p->nframes, sizeof(*mark));
	if (!c || !mark) {
		free(c);
		free(mark);
		out->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < p->nframes; i++)
		c[i].id = (uint32_t)i;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		c[s->frames[s->n - 1]].self += s->count;
		for (uint32_t j = 0; j < s->n; j++) {
			/* a recursive function counts once per stack in its total */
			if (mark[s->frames[j]] == i + 1)
				continue;
			mark[s->frames[j]] = i + 1;
			c[s->frames[j]].total += s->count;
		}
	}
	qsort(c, p->nframes, sizeof(*c), by_self);
	ct_buf_puts(out, "\n   self%   total%  function\n");
	for (size_t i = 0; i < p->nframes && i < 30; i++) {
		const struct ct_pframe *f = &p->frames[c[i].id];
		if (!c[i].self || f->kind == CT_PFRAME_ROOT || f->kind == CT_PFRAME_THREAD)
			continue;
		ct_buf_printf(out, "  %6.2f  %6.2f   %s%s", 100.0 * (double)c[i].self / (double)p->total,
			      100.0 * (double)c[i].total / (double)p->total, f->name, kind_suffix(f->kind));
		if (f->file)
			ct_buf_printf(out, "  (%s)", f->file);
		ct_buf_putc(out, '\n');
	}
	free(c);
	free(mark);
}

int ct_report_profile(enum ct_format fmt, const struct ct_profile *p, const struct ct_profile_meta *m,
		      struct ct_buf *out)
{
	switch (fmt) {
	case CT_FMT_FOLDED:
		ct_report_profile_folded(p, out);
		return 0;
	case CT_FMT_TEXT:
		ct_report_profile_text(p, m, out);
		return 0;
	case CT_FMT_SVG:
		ct_report_profile_svg(p, m, out);
		return 0;
	case CT_FMT_SPEEDSCOPE:
		ct_report_profile_speedscope(p, m, out);
		return 0;
	case CT_FMT_JSON:
		ct_report_profile_json(p, m, out);
		return 0;
	case CT_FMT_PPROF:
		ct_report_profile_pprof(p, m, out);
		return 0;
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
		t->n[0].count += stack_value(p, s);
		for (uint32_t j = 0; j < s->n; j++) {
			cur = ftree_child(t, cur, s->frames[j]);
			if (t->err) {
				free(t->n);
				return t->err;
			}
			t->n[cur].count += stack_value(p, s);
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
	ct_buf_puts(out, kind_suffix(f ? f->kind : CT_PFRAME_NORMAL));
	ct_buf_puts(out, "\"><title>");
	xml_escape(out, name);
	ct_buf_puts(out, kind_suffix(f ? f->kind : CT_PFRAME_NORMAL));
	ct_buf_printf(out, " (%" PRIu64 " %s%s, %.2f%%)", n->count, p->alloc ? "byte" : "sample",
		      n->count == 1 ? "" : "s",
		      100.0 * (double)n->count / (double)(t->n[0].count ? t->n[0].count : 1));
	if (f && f->file) {
		ct_buf_putc(out, ' ');
		xml_escape(out, f->file);
	}
	ct_buf_printf(out, "</title><rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%u\" fill=\"%s\" rx=\"2\"/>"
		      "<text x=\"%.1f\" y=\"%u\">", px, y, pw > 0.5 ? pw - 0.5 : pw, SVG_FH - 1, color, px + 3,
		      y + SVG_FH - 4);
	/* the label as the script's fit() would cut it, so viewers without scripts show it too */
	char label[512];
	snprintf(label, sizeof(label), "%s%s", name, kind_suffix(f ? f->kind : CT_PFRAME_NORMAL));
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

/* ---- speedscope: https://www.speedscope.app/file-format-schema.json, one sampled profile ---- */

void ct_report_profile_speedscope(const struct ct_profile *p, const struct ct_profile_meta *m,
				  struct ct_buf *out)
{
	struct ct_json j;
	ct_json_init(&j, out);
	ct_json_obj_begin(&j);
	ct_json_key(&j, "$schema");
	ct_json_str(&j, "https://www.speedscope.app/file-format-schema.json");
	ct_json_key(&j, "exporter");
	ct_json_str(&j, "ctrace");
	ct_json_key(&j, "name");
	ct_json_str(&j, m->title);
	ct_json_key(&j, "activeProfileIndex");
	ct_json_int(&j, 0);
	ct_json_key(&j, "shared");
	ct_json_obj_begin(&j);
	ct_json_key(&j, "frames");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nframes; i++) {
		const struct ct_pframe *f = &p->frames[i];
		struct ct_buf name = CT_BUF_INIT;
		ct_buf_printf(&name, "%s%s", f->name, kind_suffix(f->kind));
		ct_json_obj_begin(&j);
		ct_json_key(&j, "name");
		ct_json_str(&j, ct_buf_cstr(&name));
		ct_buf_free(&name);
		if (f->file) {
			ct_json_key(&j, "file");
			ct_json_str(&j, f->file);
			if (f->line > 0) {
				ct_json_key(&j, "line");
				ct_json_int(&j, f->line);
			}
		} else if (f->module) {
			ct_json_key(&j, "file");
			ct_json_str(&j, f->module);
		}
		ct_json_obj_end(&j);
	}
	ct_json_arr_end(&j);
	ct_json_obj_end(&j);
	ct_json_key(&j, "profiles");
	ct_json_arr_begin(&j);
	ct_json_obj_begin(&j);
	ct_json_key(&j, "type");
	ct_json_str(&j, "sampled");
	ct_json_key(&j, "name");
	ct_json_str(&j, m->title);
	/* without times (a profile merged from folded stacks), the weights are sample counts */
	bool timed = p->total_weight || !p->total;
	ct_json_key(&j, "unit");
	ct_json_str(&j, p->alloc ? "bytes" : timed ? "nanoseconds" : "none");
	ct_json_key(&j, "startValue");
	ct_json_uint(&j, 0);
	ct_json_key(&j, "endValue");
	ct_json_uint(&j, timed ? p->total_weight : p->total);
	ct_json_key(&j, "samples");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nstacks; i++) {
		ct_json_arr_begin(&j);
		for (uint32_t k = 0; k < p->stacks[i].n; k++)
			ct_json_uint(&j, p->stacks[i].frames[k]);
		ct_json_arr_end(&j);
	}
	ct_json_arr_end(&j);
	ct_json_key(&j, "weights");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nstacks; i++)
		ct_json_uint(&j, timed ? p->stacks[i].weight : p->stacks[i].count);
	ct_json_arr_end(&j);
	/* the samples each stack stands for (speedscope ignores it; ctrace merge reads it back) */
	ct_json_key(&j, "ctraceCounts");
	ct_json_arr_begin(&j);
	for (size_t i = 0; i < p->nstacks; i++)
		ct_json_uint(&j, p->stacks[i].count);
	ct_json_arr_end(&j);
	ct_json_obj_end(&j);
	ct_json_arr_end(&j);
	ct_json_obj_end(&j);
	ct_buf_putc(out, '\n');
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

/* ---- pprof: profile.proto (github.com/google/pprof/proto/profile.proto), gzip-compressed ---- */

/* The string table: index 0 is "", then each string added once (a linear probe over the frames is
 * avoided by giving every frame name its own index in frame order). */
struct pb_strings {
	struct ct_buf table; /* encoded field 6 entries */
	uint64_t n;
};

static uint64_t pb_str(struct pb_strings *s, const char *str)
{
	ct_pb_put_bytes(&s->table, 6, str, strlen(str));
	return s->n++;
}

/* The strings of the profile's labels, numbered from first on: ret_idx[2 * i] is label i's key,
 * ret_idx[2 * i + 1] its string value. A key is written once. Returns 0 or -ENOMEM. */
static int pprof_label_strings(const struct ct_profile *p, uint64_t first, struct pb_strings *st,
			       uint64_t **ret_idx)
{
	uint64_t *idx = calloc(2 * p->nlabels + 1, sizeof(*idx));
	const char *keys[16];
	uint64_t key_idx[16];
	size_t nkeys = 0;
	if (!idx)
		return -ENOMEM;
	st->n = first;
	for (size_t i = 0; i < p->nlabels; i++) {
		const struct ct_plabel *l = &p->labels[i];
		size_t k = 0;
		while (k < nkeys && strcmp(keys[k], l->key) != 0)
			k++;
		if (k < nkeys) {
			idx[2 * i] = key_idx[k];
		} else {
			idx[2 * i] = pb_str(st, l->key);
			if (nkeys < CT_ARRAY_SIZE(keys)) {
				keys[nkeys] = l->key;
				key_idx[nkeys++] = idx[2 * i];
			}
		}
		if (l->str)
			idx[2 * i + 1] = pb_str(st, l->str);
	}
	*ret_idx = idx;
	return st->table.err;
}

void ct_report_profile_pprof(const struct ct_profile *p, const struct ct_profile_meta *m, struct ct_buf *out)
{
	struct ct_buf pb = CT_BUF_INIT, sub = CT_BUF_INIT, sub2 = CT_BUF_INIT;
	struct pb_strings st = { CT_BUF_INIT, 0 };
	pb_str(&st, "");
	/* an allocation profile uses pprof's heap names: alloc_objects/count, alloc_space/bytes */
	uint64_t s_samples = pb_str(&st, p->alloc ? "alloc_objects" : "samples"), s_count = pb_str(&st, "count");
	uint64_t s_time = pb_str(&st, p->alloc ? "alloc_space" : p->wall ? "wall" : "cpu");
	uint64_t s_ns = pb_str(&st, p->alloc ? "bytes" : "nanoseconds");
	uint64_t s_process = pb_str(&st, "process");
	/* label strings follow the frames' two strings each (below) */
	struct pb_strings lst = { CT_BUF_INIT, 0 };
	uint64_t *lidx = NULL;
	if (pprof_label_strings(p, s_process + 1 + 2ull * p->nframes, &lst, &lidx) < 0)
		out->err = -ENOMEM;

	/* sample_type: samples/count, cpu|wall/nanoseconds (not when merged from folded stacks,
	 * which have no times) */
	bool timed = p->total_weight || !p->total;
	ct_pb_put_int(&sub, 1, s_samples);
	ct_pb_put_int(&sub, 2, s_count);
	ct_pb_put_msg(&pb, 1, &sub);
	if (timed) {
		ct_pb_put_int(&sub, 1, s_time);
		ct_pb_put_int(&sub, 2, s_ns);
		ct_pb_put_msg(&pb, 1, &sub);
	}

	/* samples: location ids leaf first; the root frame (the process) becomes a label */
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct ct_pstack *s = &p->stacks[i];
		for (uint32_t k = s->n; k-- > 0;) {
			if (p->frames[s->frames[k]].kind == CT_PFRAME_ROOT)
				continue;
			ct_pb_put_varint(&sub2, s->frames[k] + 1ull);
		}
		ct_pb_put_msg(&sub, 1, &sub2);
		ct_pb_put_varint(&sub2, s->count);
		if (timed)
			ct_pb_put_varint(&sub2, s->weight);
		ct_pb_put_msg(&sub, 2, &sub2);
		if (p->frames[s->frames[0]].kind == CT_PFRAME_ROOT) {
			/* Label { key = "process", str = name }: name's index is 2 * frame + base, below */
			ct_pb_put_int(&sub2, 1, s_process);
			ct_pb_put_int(&sub2, 2, s_process + 1 + 2ull * s->frames[0]);
			ct_pb_put_msg(&sub, 3, &sub2);
		}
		const struct ct_plabelset *set = &p->labelsets[s->labels];
		for (uint32_t k = 0; lidx && k < set->n; k++) {
			const struct ct_plabel *l = &p->labels[set->first + k];
			ct_pb_put_int(&sub2, 1, lidx[2 * (set->first + k)]);     /* Label.key */
			if (l->str)
				ct_pb_put_int(&sub2, 2, lidx[2 * (set->first + k) + 1]); /* Label.str */
			else
				ct_pb_put_int(&sub2, 3, (uint64_t)l->num);              /* Label.num */
			ct_pb_put_msg(&sub, 3, &sub2);
		}
		ct_pb_put_msg(&pb, 2, &sub);
	}

	/* one location and one function per frame (id = frame index + 1); strings name then file */
	uint64_t base = st.n;
	for (size_t i = 0; i < p->nframes; i++) {
		const struct ct_pframe *f = &p->frames[i];
		struct ct_buf name = CT_BUF_INIT;
		ct_buf_printf(&name, "%s%s", f->name, kind_suffix(f->kind));
		uint64_t s_name = pb_str(&st, ct_buf_cstr(&name));
		ct_buf_free(&name);
		uint64_t s_file = pb_str(&st, f->file ? f->file : f->module ? f->module : "");
		if (s_name != base + 2 * i)
			out->err = -EINVAL; /* the label indexes above rely on this layout */

		ct_pb_put_int(&sub, 1, i + 1);               /* Location.id */
		ct_pb_put_int(&sub2, 1, i + 1);              /* Line.function_id */
		if (f->line > 0)
			ct_pb_put_int(&sub2, 2, (uint64_t)f->line);
		ct_pb_put_msg(&sub, 4, &sub2);               /* Location.line */
		ct_pb_put_msg(&pb, 4, &sub);

		ct_pb_put_int(&sub, 1, i + 1);               /* Function.id */
		ct_pb_put_int(&sub, 2, s_name);              /* name */
		ct_pb_put_int(&sub, 3, s_name);              /* system_name */
		ct_pb_put_int(&sub, 4, s_file);              /* filename */
		ct_pb_put_msg(&pb, 5, &sub);
	}
	ct_buf_append(&pb, st.table.data ? st.table.data : "", st.table.len);
	ct_buf_append(&pb, lst.table.data ? lst.table.data : "", lst.table.len);
	if (st.table.err || lst.table.err)
		pb.err = -ENOMEM;
	ct_pb_put_int(&pb, 9, p->start_ns);                  /* time_nanos */
	ct_pb_put_int(&pb, 10, p->duration_ns);              /* duration_nanos */
	if (timed) {
		ct_pb_put_int(&sub, 1, s_time);              /* period_type */
		ct_pb_put_int(&sub, 2, s_ns);
		ct_pb_put_msg(&pb, 11, &sub);
		ct_pb_put_int(&pb, 12, p->period_ns);        /* period */
	}
	(void)m;
	if (pb.err || sub.err || sub2.err)
		out->err = -ENOMEM;
	else if (!out->err && ct_gzip(pb.data, pb.len, out) < 0)
		out->err = -ENOMEM;
	ct_buf_free(&pb);
	ct_buf_free(&sub);
	ct_buf_free(&sub2);
	ct_buf_free(&st.table);
	ct_buf_free(&lst.table);
	free(lidx);
}
