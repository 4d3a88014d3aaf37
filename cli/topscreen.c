/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cli/topscreen.h"

#include <curses.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/banned.h"

enum { PAIR_TITLE = 1, PAIR_BAR, PAIR_STATUS, PAIR_BOX };

struct ct_top_screen {
	SCREEN *scr;
	bool color;
};

int ct_top_screen_open(struct ct_top_screen **ret)
{
	*ret = NULL;
	struct ct_top_screen *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* newterm, not initscr: an unknown TERM is an error to handle, not an exit */
	s->scr = newterm(NULL, stdout, stdin);
	if (!s->scr) {
		free(s);
		return -ENOTTY;
	}
	set_term(s->scr);
	cbreak();              /* keys at once; Ctrl-C still raises SIGINT */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE); /* getch never waits: the profile session's tick polls it */
	curs_set(0);
	const char *nc = getenv("NO_COLOR");
	s->color = !(nc && *nc) && has_colors();
	if (s->color && start_color() == OK) {
		use_default_colors();
		init_pair(PAIR_TITLE, COLOR_CYAN, -1);
		init_pair(PAIR_BAR, COLOR_BLACK, COLOR_GREEN);
		init_pair(PAIR_STATUS, COLOR_YELLOW, -1);
		init_pair(PAIR_BOX, COLOR_BLACK, COLOR_CYAN);
	} else {
		s->color = false;
	}
	*ret = s;
	return 0;
}

void ct_top_screen_close(struct ct_top_screen *s)
{
	if (!s)
		return;
	endwin();
	delscreen(s->scr);
	fflush(stdout);
	free(s);
}

int ct_top_screen_key(struct ct_top_screen *s)
{
	(void)s;
	int k = getch();
	if (k == KEY_RESIZE)
		return CT_TOP_KEY_RESIZE;
	return k == ERR ? CT_TOP_KEY_NONE : k;
}

void ct_top_screen_begin(struct ct_top_screen *s, int *ret_rows, int *ret_cols)
{
	(void)s;
	erase();
	*ret_rows = LINES;
	*ret_cols = COLS;
}

static attr_t style_attr(const struct ct_top_screen *s, enum ct_top_style style)
{
	switch (style) {
	case CT_TOP_TITLE: return A_BOLD | (s->color ? COLOR_PAIR(PAIR_TITLE) : 0);
	case CT_TOP_BAR: return s->color ? COLOR_PAIR(PAIR_BAR) : A_REVERSE;
	case CT_TOP_STATUS: return s->color ? COLOR_PAIR(PAIR_STATUS) : A_BOLD;
	case CT_TOP_BOX: return s->color ? COLOR_PAIR(PAIR_BOX) : A_REVERSE;
	default: return A_NORMAL;
	}
}

void ct_top_screen_line(struct ct_top_screen *s, int y, const char *text, enum ct_top_style style)
{
	if (y < 0 || y >= LINES)
		return;
	attr_t a = style_attr(s, style);
	/* the last cell of the last line is left alone: writing it would scroll some terminals */
	int width = y == LINES - 1 ? COLS - 1 : COLS;
	attron(a);
	mvaddnstr(y, 0, text, width);
	if (style == CT_TOP_BAR || style == CT_TOP_BOX) /* a bar the whole width */
		for (int x = getcurx(stdscr); x < width && x >= 0; x++)
			addch(' ');
	else
		clrtoeol();
	attroff(a);
}

void ct_top_screen_end(struct ct_top_screen *s)
{
	(void)s;
	refresh();
}
