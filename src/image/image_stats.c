/* image_stats.c - figures and hints of an open image that its user plans
 * with, and of one just written. */
#include "image_int.h"

double image_write_ratio(const struct image_write_stats *s)
{
	return s->file_bytes ? (double)s->mem_bytes / (double)s->file_bytes : 0;
}

uint64_t image_data_pages(const struct image *img, unsigned region)
{
	uint64_t stored, pages;

	if (region >= img->st.config.nmem || region >= VM_MAX_MEM_REGIONS)
		return 0;
	region_totals(&img->mem[region].idx, &stored, &pages);
	return pages;
}

uint32_t image_prefetch_order(const struct image *img, unsigned region,
			      const uint32_t **order)
{
	*order = NULL;
	if (region >= img->st.config.nmem || region >= VM_MAX_MEM_REGIONS ||
	    !img->prefetch[region].n)
		return 0;
	*order = img->prefetch[region].chunks;
	return img->prefetch[region].n;
}
