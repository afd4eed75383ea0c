/**
 * Keeps the last meaningful lines of ffmpeg's stderr, for error messages, and recognises device/driver failures
 * (the cue for a software retry and a re-probe of the hardware family).
 */

/** Lines that never explain a failure: the banner, stream listings, per-segment "Opening" notices, stats. */
const NOISE: RegExp[] = [
  /^\s/, // indented: metadata, stream descriptions, library versions
  /^ffmpeg version /,
  /^\s*built with /,
  /^\s*configuration: /,
  /^(Input|Output) #\d+/,
  /^Stream mapping:/,
  /^Press \[q\]/,
  /^frame=\s*\d+/,
  /^size=\s*/,
  /^video:\d+/,
  /\] Opening '.*' for writing$/,
  /^\[.*\] (?:frame I:|frame P:|frame B:|mb I |mb P |mb B |8x8 transform|coded y,|i16 v,h,dc,p|i8 v,h,dc|i4 v,h,dc|Weighted P-Frames|ref P L0|ref B L0|ref B L1|kb\/s:|consecutive B-frames|Qavg|final ratefactor|profile |using cpu capabilities|using SAR=)/,
];

/** stderr patterns that mean the hardware (not the job) is the problem. */
const DEVICE_PATTERNS: RegExp[] = [
  /Cannot load libcuda/i,
  /Cannot load libnvidia-encode/i,
  /No (?:NVENC )?capable devices found/i,
  /OpenEncodeSessionEx failed/i,
  /incompatible client key/i,
  // The loaded driver is older than the NVENC API ffmpeg was built for (a driver change under a running container).
  /required nvenc API version/i,
  // nvenc's -gpu names an index the driver no longer has (a GPU fell off the bus).
  /Requested GPU \d+, but only \d+ GPUs? (?:are|is) available/i,
  /CUDA_ERROR_/,
  /cuInit\(0\) failed/i,
  /Failed to initiali[sz]e VAAPI/i,
  /vaInitialize failed/i,
  /Failed to create a VAAPI device/i,
  /Device creation failed/i,
  /No device available for decoder/i,
  /Failed to create (?:a |the )?(?:CUDA|QSV|hardware) (?:device|context)/i,
  // "Error creating a MFX session: -9." (device init) and "Error initializing an internal MFX session: ..." (encoder).
  /Error (?:initializing|creating) (?:an? )?(?:internal )?(?:MFX|QSV) session/i,
  // ffmpeg's texts for MFX_ERR_DEVICE_LOST / MFX_ERR_DEVICE_FAILED / MFX_ERR_GPU_HANG, e.g. "Error during encoding: device failed (-17)".
  /hardware device was lost|: device failed \(-17\)|GPU hang \(-21\)/i,
  /No VA display found for device/i,
  // VAAPI after a GPU hang/reset: the driver cannot finish the submitted work.
  /Failed to sync surface/i,
  /hwaccel initiali[sz]ation returned error/i,
  /for option 'init_hw_device'/,
  /MFX_ERR_DEVICE_FAILED|MFX_ERR_UNSUPPORTED/,
  /Could not open (?:encoder|decoder) .*v4l2m2m/i,
  /_v4l2m2m @ [^\]]+\] Could not find a valid device/,
  /\/dev\/(?:dri|video\d+).*(?:No such file|Permission denied)/i,
];

export function isNoise(line: string): boolean {
  return line.trim() === '' || NOISE.some((re) => re.test(line));
}

export function looksLikeDeviceError(text: string): boolean {
  return DEVICE_PATTERNS.some((re) => re.test(text));
}

/** A ring of the last `max` meaningful lines; consecutive repeats are collapsed to one. */
export class StderrTail {
  private lines: string[] = [];
  private carry = '';
  /** Every device-looking line seen, even one that scrolled out of the tail. */
  deviceError = false;

  constructor(private readonly max = 20) {}

  push(chunk: string): void {
    const parts = (this.carry + chunk).split(/\r?\n|\r/);
    this.carry = (parts.pop() ?? '').slice(-4096);
    for (const raw of parts) this.add(raw);
  }

  /** Flushes a last line without a newline. */
  end(): void {
    if (this.carry) this.add(this.carry);
    this.carry = '';
  }

  private add(raw: string): void {
    const line = raw.replace(/\s+$/, '').slice(0, 500);
    if (isNoise(line)) return;
    if (looksLikeDeviceError(line)) this.deviceError = true;
    if (this.lines[this.lines.length - 1] === line) return;
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  /** The tail as text, at most `maxChars` characters (the oldest lines are dropped first). */
  text(maxChars = 1500): string {
    let out = this.lines.join('\n');
    while (out.length > maxChars && out.includes('\n')) out = out.slice(out.indexOf('\n') + 1);
    return out.length > maxChars ? out.slice(-maxChars) : out;
  }
}
