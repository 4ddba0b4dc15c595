/* Replaced by the real entry point as the core lands. */
int main(void) { return 2; }
