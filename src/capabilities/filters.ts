/**
 * What filters a build has: `ffmpeg -hide_banner -filters` (which exist) and `-h filter=NAME` (which options one
 * has: vpp_qsv's `tonemap` exists only from ffmpeg 7.1 on). Decided by what the build prints, never by its version
 * string: Jellyfin's and distribution builds of one version differ. Pure parsers.
 */

/**
 * Names from `-filters`: rows such as " .SC zscale   V->V   Apply resizing..." (flag columns, the name, then the
 * pads: "N->V" for libplacebo from 7.1 on). 5.1 to 8.x print three flag columns (T, S, C), 9.0 two (" .S zscale").
 * The legend above the table has no "->" and is skipped.
 */
export function parseFilterList(stdout: string): Set<string> {
  const names = new Set<string>();
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^\s*[A-Z.|]{2,3}\s+(\S+)\s+\S*->\S*/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

/**
 * Option names from `-h filter=NAME`: "   tonemap   <int>   ..FV....... Perform tonemapping". Named constants of
 * an enum (indented further, without a <type>) are not options. An unknown filter prints "Unknown filter": empty.
 */
export function parseFilterOptions(stdout: string): Set<string> {
  const names = new Set<string>();
  for (const line of stdout.split(/\r?\n/)) {
    const m = /^\s+([A-Za-z_][\w-]*)\s+<[\w ]+>/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}
