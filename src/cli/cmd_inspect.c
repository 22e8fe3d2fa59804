/* cmd_inspect.c - `torpor inspect [--json] IMAGE`: print what an image holds. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exitcodes.h"
#include "image.h"

static void inspect_usage(FILE *f)
{
	fprintf(f, "usage: torpor inspect [--json] IMAGE\n"
		"  Prints the image's format version, host, VM configuration, vCPUs,\n"
		"  GIC, devices and memory summary; --json adds every section's and\n"
		"  memory chunk's place in the file.\n");
}

int cmd_inspect(int argc, char **argv)
{
	struct image_error err = { 0 };
	struct image *img;
	const char *path = NULL;
	int json = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			inspect_usage(stdout);
			return EXIT_OK;
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr, "torpor inspect: %s '%s' (see 'torpor inspect --help')\n",
				argv[i][0] == '-' ? "unknown option" : "unexpected argument",
				argv[i]);
			return EXIT_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "torpor inspect: IMAGE is required (see 'torpor inspect --help')\n");
		return EXIT_USAGE;
	}
	/* Chunk checksums are verify's job; inspect reads only the index. */
	if (image_open(&img, path, 0, &err) < 0) {
		fprintf(stderr, "torpor inspect: %s: %s: %s\n", path,
			image_strerror(err.code), err.msg);
		return EXIT_IMAGE;
	}
	if (image_print(img, stdout, json, &err) < 0) {
		fprintf(stderr, "torpor inspect: %s: %s\n", path, err.msg);
		image_close(img);
		return EXIT_FAILURE_RT;
	}
	image_close(img);
	return EXIT_OK;
}
