// Facts of the API's OpenAPI description that the hand-written layer follows (written by
// clients/generate.py; never edited by hand).

export const TERMINAL_JOB_STATUSES: readonly string[] = ["canceled", "completed", "failed"];
