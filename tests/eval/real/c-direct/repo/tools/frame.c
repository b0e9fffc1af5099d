/* A debugging tool with the same file name as the daemon's frame reader. */
int tool_frame(void) { return 0; }
