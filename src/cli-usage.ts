// A command-line flag the user got wrong: the CLI exits with code 2 and a message naming it.
export class UsageError extends Error {}
