/**
 * The argv that makes a sample film with ffmpeg's lavfi sources (a moving test pattern and a tone): the demo, the
 * compose demo driver and the benchmarks all need one, made on the spot instead of downloaded or checked in.
 */
export interface SampleSourceOptions {
  /** Output file; its extension picks the container. */
  file: string;
  width?: number;
  height?: number;
  fps?: number;
  seconds?: number;
  /** A 440 Hz AAC track (default true). */
  audio?: boolean;
  /** libx264 preset: veryfast by default, ultrafast where only speed matters. */
  preset?: string;
}

export function sampleSourceArgs(o: SampleSourceOptions): string[] {
  const seconds = o.seconds ?? 6;
  const audio = o.audio ?? true;
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${o.width ?? 1280}x${o.height ?? 720}:rate=${o.fps ?? 25}:duration=${seconds}`,
    ...(audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`] : []),
    '-c:v',
    'libx264',
    '-preset',
    o.preset ?? 'veryfast',
    // 4:2:0 8-bit: what every player decodes (testsrc2 would otherwise give 4:4:4).
    '-pix_fmt',
    'yuv420p',
    ...(audio ? ['-c:a', 'aac', '-shortest'] : []),
    o.file,
  ];
}
