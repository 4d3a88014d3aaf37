/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The terminal of --top, with ncurses: the one place that knows a terminal. It puts lines of text
 * (made by report/top.c and cli/top.c) on the screen in a few styles and reads keys without
 * waiting; it knows nothing of profiles. Resizing (SIGWINCH) comes back as CT_TOP_KEY_RESIZE;
 * NO_COLOR (set and not empty) leaves colors out (reverse video and bold only). */
#ifndef CT_CLI_TOPSCREEN_H
#define CT_CLI_TOPSCREEN_H

#include <stdbool.h>
#include <stddef.h>

enum ct_top_style {
	CT_TOP_PLAIN,
	CT_TOP_TITLE,    /* the header */
	CT_TOP_BAR,      /* the column titles */
	CT_TOP_STATUS,   /* the last line: keys, or what the last key did */
	CT_TOP_BOX,      /* the help over the table */
};

#define CT_TOP_KEY_NONE (-1)
#define CT_TOP_KEY_RESIZE (-2)

struct ct_top_screen;

/* Takes over the terminal of stdout and stdin (alternate screen, no echo, keys at once). 0, or
 * -ENOTTY when there is no usable terminal (TERM unknown): the caller prints plain tables. */
int ct_top_screen_open(struct ct_top_screen **ret);
/* Gives the terminal back as it was (normal screen, echo, cursor). NULL is fine. */
void ct_top_screen_close(struct ct_top_screen *s);
/* The next key pressed, CT_TOP_KEY_RESIZE after a resize, or CT_TOP_KEY_NONE. */
int ct_top_screen_key(struct ct_top_screen *s);
/* Starts a frame: clears the screen and says its size. */
void ct_top_screen_begin(struct ct_top_screen *s, int *ret_rows, int *ret_cols);
/* Line y of the frame: text cut to the width, the rest of the line cleared. */
void ct_top_screen_line(struct ct_top_screen *s, int y, const char *text, enum ct_top_style style);
/* Shows the frame. */
void ct_top_screen_end(struct ct_top_screen *s);

#endif
