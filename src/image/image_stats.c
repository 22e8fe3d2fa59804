/* image_stats.c - figures of an open image that its user plans with. */
#include "image_int.h"

uint64_t image_data_pages(const struct image *img, unsigned region)
{
	uint64_t stored, pages;

	if (region >= img->st.config.nmem || region >= VM_MAX_MEM_REGIONS)
		return 0;
	region_totals(&img->mem[region].idx, &stored, &pages);
	return pages;
}
