/* image_stats.c - figures and hints of an open image that its user plans
 * with. */
#include "image_int.h"

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
