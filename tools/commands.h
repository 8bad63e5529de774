/* The synack subcommands: one small file each (tools/cmd_NAME.c). */
#ifndef SYNACK_TOOLS_COMMANDS_H
#define SYNACK_TOOLS_COMMANDS_H

int synack_cmd_demo(int argc, char **argv);
int synack_cmd_drill(int argc, char **argv);
int synack_cmd_serve(int argc, char **argv);
int synack_cmd_connect(int argc, char **argv);
int synack_cmd_ss(int argc, char **argv);
int synack_cmd_nstat(int argc, char **argv);
int synack_cmd_ladder(int argc, char **argv);
int synack_cmd_tsg(int argc, char **argv);
int synack_cmd_report(int argc, char **argv);
int synack_cmd_run(int argc, char **argv);
int synack_cmd_fsm(int argc, char **argv);
int synack_cmd_top(int argc, char **argv);

struct synack_demo_opts;
/* The demo's option parser, shared with `synack fsm demo` (tools/cmd_demo.c). Returns 0 to
 * run, 1 when --help/--list printed what was asked, 2 on a usage error (reported as cmd). */
int synack_demo_parse_args(int argc, char **argv, struct synack_demo_opts *o, const char *cmd);

/* --tun NAME and --addr A.B.C.D/NN or IPV6/NN (repeatable: one of each family) as serve and
 * connect take them: a name the kernel accepts (1 to 15 characters) and each address with its
 * prefix length (1 to 31, 1 to 127). Returns 0, or 2 after a one-line message naming the
 * option (tools/cli.c). */
int synack_cli_check_tun_addr(const char *cmd, const char *tun, const char *const cidr[2]);
/* Records one more --addr in cidr (two at most: else 2 after a one-line message). */
int synack_cli_add_addr(const char *cmd, const char *cidr[2], const char *arg);

#endif
