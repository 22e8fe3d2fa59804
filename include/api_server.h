/* api_server.h - the control socket (--api-socket PATH): a UNIX stream
 * socket, the thread that serves it and its clients, one JSON line each way
 * (api_proto.h). It knows nothing of the VM: each well-formed request goes
 * to the owner's callback, which answers it now or later, exactly once.
 *
 * A client has one request outstanding at a time: its next line is read once
 * the reply is queued. A malformed, unknown or oversized line (more than
 * API_MAX_LINE bytes, newline included; the rest of it is discarded) gets an
 * error reply from the server itself, and an `events` request is answered by
 * the server, which then copies every event to that client. Nothing a client
 * does blocks the VM: output is queued per client, and a client that lets
 * API_MAX_QUEUED bytes pile up is disconnected. */
#ifndef TORPOR_API_SERVER_H
#define TORPOR_API_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "api_proto.h"

#define API_MAX_CLIENTS         16      /* at once; more are refused with an error line */
#define API_MAX_QUEUED          (256u << 10)    /* bytes queued to one client */

struct api_server;

/* A request of client `client` (an id never reused by one server), called on
 * the server's thread without its lock held: it may call api_server_reply
 * and api_server_event, and must answer every request exactly once, now or
 * later. */
typedef void (*api_request_fn)(void *ctx, uint64_t client, const struct api_request *req);

/* Creates the socket at path with mode 0600 and starts serving it. An
 * existing path is replaced only if it is a socket that nobody accepts on
 * (a stale one of an earlier torpor); anything else is refused. NULL on
 * failure, with a one-line reason in err. */
struct api_server *api_server_start(const char *path, api_request_fn fn, void *ctx,
				    char *err, size_t errlen);

/* Queues line (a whole reply, newline included) to client and lets it send
 * its next request; a client that has gone is ignored. Any thread. */
void api_server_reply(struct api_server *s, uint64_t client, const char *line, size_t len);

/* Queues line (a whole event, newline included) to every client that asked
 * for events. Any thread. */
void api_server_event(struct api_server *s, const char *line, size_t len);

/* Not from inside the callback (it joins the thread the callback runs on).
 * Sends what is queued, giving slow readers up to timeout_ms in all, then
 * closes every connection and the socket, removes path, joins the thread and
 * frees s. NULL does nothing. */
void api_server_stop(struct api_server *s, int timeout_ms);

#endif
