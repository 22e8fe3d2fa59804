/* buf.c - the byte buffers the section codecs encode into and decode from. */
#include <stdlib.h>
#include <string.h>

#include "image_int.h"
#include "le.h"

/* Reserves n more bytes; NULL once allocation has failed. */
static uint8_t *wbuf_room(struct wbuf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (n > SIZE_MAX / 2 - b->len) {
		b->oom = 1;
		return NULL;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	b->len += n;
	return b->p + b->len - n;
}

void wbuf_put8(struct wbuf *b, uint8_t v)
{
	uint8_t *p = wbuf_room(b, 1);

	if (p)
		*p = v;
}

void wbuf_put16(struct wbuf *b, uint16_t v)
{
	uint8_t *p = wbuf_room(b, 2);

	if (p)
		le_put16(p, v);
}

void wbuf_put32(struct wbuf *b, uint32_t v)
{
	uint8_t *p = wbuf_room(b, 4);

	if (p)
		le_put32(p, v);
}

void wbuf_put64(struct wbuf *b, uint64_t v)
{
	uint8_t *p = wbuf_room(b, 8);

	if (p)
		le_put64(p, v);
}

void wbuf_bytes(struct wbuf *b, const void *src, size_t n)
{
	uint8_t *p = wbuf_room(b, n);

	if (p && n)
		memcpy(p, src, n);
}

void wbuf_free(struct wbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Start of the next n bytes, or NULL (and over set) if fewer are left. */
static const uint8_t *rbuf_take(struct rbuf *r, size_t n)
{
	if (r->over || n > r->len - r->pos) {
		r->over = 1;
		return NULL;
	}
	r->pos += n;
	return r->p + r->pos - n;
}

uint8_t rbuf_get8(struct rbuf *r)
{
	const uint8_t *p = rbuf_take(r, 1);

	return p ? *p : 0;
}

uint16_t rbuf_get16(struct rbuf *r)
{
	const uint8_t *p = rbuf_take(r, 2);

	return p ? le_get16(p) : 0;
}

uint32_t rbuf_get32(struct rbuf *r)
{
	const uint8_t *p = rbuf_take(r, 4);

	return p ? le_get32(p) : 0;
}

uint64_t rbuf_get64(struct rbuf *r)
{
	const uint8_t *p = rbuf_take(r, 8);

	return p ? le_get64(p) : 0;
}

void rbuf_bytes(struct rbuf *r, void *dst, size_t n)
{
	const uint8_t *p = rbuf_take(r, n);

	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

void rbuf_skip(struct rbuf *r, size_t n)
{
	rbuf_take(r, n);
}

size_t rbuf_left(const struct rbuf *r)
{
	return r->over ? 0 : r->len - r->pos;
}

int rbuf_end(const struct rbuf *r, const char *what, struct image_error *err)
{
	if (r->over)
		return img_fail(err, IMG_ECORRUPT, "%s: length %zu too short for its contents",
				what, r->len);
	if (r->pos != r->len)
		return img_fail(err, IMG_ECORRUPT, "%s: %zu bytes after the last field",
				what, r->len - r->pos);
	return 0;
}
