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

#endif
