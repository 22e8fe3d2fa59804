/* cli.h - torpor's subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns an exit code from exitcodes.h. */
#ifndef TORPOR_CLI_H
#define TORPOR_CLI_H

int cmd_run(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_ctl(int argc, char **argv);

/* The exit status for what a command's run returned: an outcome (>= 0) as
 * it is; -1, the recorded failure, whose one line it prints on stderr. */
int cli_exit_code(int ret);

#endif
