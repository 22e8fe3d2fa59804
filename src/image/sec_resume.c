/* sec_resume.c - codec of the PSCI resume request section (type 4): which
 * vCPU suspended, how, and where it resumes. */
#include "image_int.h"

_Static_assert(RSM_CONTEXT_ID + 8 == SEC_PSCI_RESUME_SIZE, "resume layout");

void sec_resume_put(struct wbuf *b, const struct psci_resume *rs)
{
	wbuf_put32(b, rs->vcpu);
	wbuf_put32(b, rs->smc64);
	wbuf_put64(b, rs->entry);
	wbuf_put64(b, rs->context_id);
}

int sec_resume_get(const uint8_t *p, size_t len, struct psci_resume *rs,
		   struct image_error *err)
{
	struct rbuf r = { .p = p, .len = len };

	rs->vcpu = rbuf_get32(&r);
	rs->smc64 = rbuf_get32(&r);
	rs->entry = rbuf_get64(&r);
	rs->context_id = rbuf_get64(&r);
	return rbuf_end(&r, "psci resume section", err);
}
