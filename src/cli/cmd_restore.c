/* cmd_restore.c - `torpor restore IMAGE`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "cli.h"
#include "exitcodes.h"
#include "log.h"
#include "vm.h"
#include "run_options.h"

static const char restore_usage[] =
"usage: torpor restore [options] IMAGE\n"
"Resumes the guest saved in IMAGE in a new VM, through the PSCI wakeup it\n"
"suspended with. Restore is the power button: torpor presses the gpio-keys\n"
"wake button if the guest armed it, and otherwise completes the PSCI resume\n"
"at once (the suspend call returns at its entry point).\n"
"  --clock continue|freeze  continue (default): the guest's counter advances\n"
"                           by the downtime, as on hardware; freeze: it\n"
"                           resumes where it stopped\n"
"  --memory lazy|eager      lazy (default where userfaultfd is permitted): the\n"
"                           guest runs at once and each chunk of its memory\n"
"                           is decoded when first touched, the rest in the\n"
"                           background; eager: all of it before the guest runs\n"
"  --no-wake                keep the guest asleep until a wake source it armed\n"
"                           fires (an RTC alarm; console input, if it enabled\n"
"                           wakeup on its serial port)\n"
"  --force-wake             resume at once, without pressing the wake button\n"
"  -o, --image PATH         where a later suspend is checkpointed\n"
"                           (default: IMAGE itself)\n"
"      --on-suspend MODE    hibernate (default), snapshot or deny\n"
"      --disk PATH          where the image's disks are now, one per disk in\n"
"                           order (default: the paths recorded in IMAGE); a\n"
"                           disk written since the checkpoint is refused\n"
"      --disk-overlay       the guest's disk writes go to a private copy-on-\n"
"                           write file in $TMPDIR (/var/tmp), thrown away at\n"
"                           exit: restore one image many times (implies\n"
"                           --on-suspend deny)\n"
"      --net tap=NAME[,mac=MAC] | --net mac=MAC\n"
"                           where the image's network cards go now, one per\n"
"                           card in order (default, and without tap=: the\n"
"                           taps recorded in IMAGE); mac= gives the card a\n"
"                           new MAC (a clone), which Linux reads when its\n"
"                           driver binds\n"
"      --no-vmgenid         keep the image's VM generation ID (by default every\n"
"                           restore gives the guest a new one, so it reseeds\n"
"                           its random number generator)\n"
"      --chunk-size SIZE    memory chunk of the images written: a power of two\n"
"                           from 4K to 16M, K/M suffix (default 64K; more\n"
"                           for a guest over 256G)\n"
"      --api-socket PATH    a control socket (mode 0600): `torpor ctl PATH\n"
"                           hibernate|snapshot|poweroff|wake|status|events|...`\n";

int cmd_restore(int argc, char **argv)
{
	struct run_options o;
	char err[PATH_MAX + 256];
	if (restore_options_parse(&o, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "torpor restore: %s (see 'torpor restore --help')\n", err);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(restore_usage, stdout);
		return EXIT_OK;
	}
	if (o.on_suspend != SUSPEND_DENY && image_path_check(o.image, err, sizeof(err))) {
		fprintf(stderr, "torpor restore: %s\n", err);
		return EXIT_USAGE;
	}
#ifdef TORPOR_KVM
	return cli_exit_code(restore_run(&o));
#else
	return cli_exit_code(fail(EXIT_NO_KVM, "this torpor was built without KVM "
				  "support; run the arm64 build on an arm64 Linux "
				  "host with /dev/kvm"));
#endif
}
