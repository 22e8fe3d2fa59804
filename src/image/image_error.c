/* image_error.c - the image library's error recorder: a code and one line
 * in the caller's struct image_error. */
#include <stdarg.h>
#include <stdio.h>

#include "image_int.h"

int img_fail(struct image_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}
