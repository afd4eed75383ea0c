/**
 * The audio filter chains that turn a source stream of any channel layout into the two layouts the HLS audio
 * groups carry: stereo for the always-present AAC-LC group, and 5.1 for the optional AC-3 / E-AC-3 group. Pure.
 *
 * Why explicit matrices instead of `-ac 2`: swresample's automatic matrix is normalised (every output channel's
 * coefficients scaled to sum to 1, which puts the centre at -10.7 dB instead of -3 dB) whenever the conversion
 * runs in an integer sample format, and left unnormalised (hot mixes go past 0 dBFS) when it runs in float, so the
 * dialogue level and the clipping depend on which formats the graph happens to negotiate. Here the mix always runs
 * in float with fixed ITU-R BS.775 / ATSC A/52 coefficients (centre and surrounds at -3 dB, LFE dropped), and a
 * look-ahead limiter catches the overs that a fixed-coefficient sum can produce. Figures: docs/audio-downmix.md.
 *
 * Invariants: the chains only use filters and syntax that are the same on ffmpeg 5.1 to 7.x (aformat, pan with
 * layout names and cN channel indexes, alimiter with latency compensation); channels are addressed by index
 * (c0..cN), so an input whose frames carry no layout (6 PCM channels in Matroska) mixes the same as a labelled one;
 * a chain never lengthens or delays the audio (alimiter's look-ahead is compensated: same samples, same times).
 */

/** -3 dB (1/sqrt 2): the BS.775 / A/52 level for the centre and the surrounds in a downmix. */
const MINUS_3DB = 0.7071;
/** -6 dB: a centred surround (BC, TBC) folded at -3 dB and split over two outputs at -3 dB. */
const MINUS_6DB = 0.5;

/** The layout of the surround group: AC-3's native 3/2+LFE, and what ffmpeg's AC-3/E-AC-3 decoders report. */
export const SURROUND_LAYOUT = '5.1(side)';

/**
 * Peak limiter for mixes whose coefficients add up past 1. Ceiling -2 dBFS (0.794) because the AAC encoder alone
 * overshoots by about 1 dB (a -2 dBFS sine comes back at -1 dBFS); release 200 ms for less modulation distortion
 * than the 50 ms default (a hot tone mix came back at -1.2 dBFS instead of +0.3); level=0 turns off auto-level,
 * which would scale the output back up to 0 dBFS; latency=1 compensates the 5 ms look-ahead (measured: a click at
 * sample 48000 stays at 48000, and as many samples come out as went in).
 */
const LIMITER = 'alimiter=limit=0.794:attack=5:release=200:level=0:latency=1';

/** Mix in float: pan keeps the input's sample format, and an integer one saturates a sum before the limiter. */
const FLOAT = 'aformat=sample_fmts=fltp';

export interface AudioSourceLayout {
  channels: number;
  /** ffprobe's channel_layout ("5.1(side)", "7.1", "unknown", "6 channels", "4 channels (FL+FR+LFE+BC)"). */
  layout?: string;
}

/** ffmpeg's channel ids in native (bit) order: a named layout lists its channels in this order. */
const NATIVE_ORDER = [
  'FL', 'FR', 'FC', 'LFE', 'BL', 'BR', 'FLC', 'FRC', 'BC', 'SL', 'SR', 'TC', 'TFL', 'TFC', 'TFR', 'TBL', 'TBC',
  'TBR', 'DL', 'DR', 'WL', 'WR', 'SDL', 'SDR', 'LFE2', 'TSL', 'TSR', 'BFC', 'BFL', 'BFR', 'SSL', 'SSR', 'TTL',
  'TTR', 'BIL', 'BIR',
]; // prettier-ignore

/** ffmpeg's named layouts (5.1 to 7.x; the ones with heights are 6.1+), as sets of channels. */
const NAMED_LAYOUTS: Record<string, string> = {
  mono: 'FC',
  stereo: 'FL+FR',
  '2.1': 'FL+FR+LFE',
  '3.0': 'FL+FR+FC',
  '3.0(back)': 'FL+FR+BC',
  '4.0': 'FL+FR+FC+BC',
  quad: 'FL+FR+BL+BR',
  'quad(side)': 'FL+FR+SL+SR',
  '3.1': 'FL+FR+FC+LFE',
  '5.0': 'FL+FR+FC+BL+BR',
  '5.0(side)': 'FL+FR+FC+SL+SR',
  '4.1': 'FL+FR+FC+LFE+BC',
  '5.1': 'FL+FR+FC+LFE+BL+BR',
  '5.1(side)': 'FL+FR+FC+LFE+SL+SR',
  '6.0': 'FL+FR+FC+BC+SL+SR',
  '6.0(front)': 'FL+FR+FLC+FRC+SL+SR',
  '3.1.2': 'FL+FR+FC+LFE+TFL+TFR',
  hexagonal: 'FL+FR+FC+BL+BR+BC',
  '6.1': 'FL+FR+FC+LFE+BC+SL+SR',
  '6.1(back)': 'FL+FR+FC+LFE+BL+BR+BC',
  '6.1(front)': 'FL+FR+LFE+FLC+FRC+SL+SR',
  '7.0': 'FL+FR+FC+BL+BR+SL+SR',
  '7.0(front)': 'FL+FR+FC+FLC+FRC+SL+SR',
  '7.1': 'FL+FR+FC+LFE+BL+BR+SL+SR',
  '7.1(wide)': 'FL+FR+FC+LFE+BL+BR+FLC+FRC',
  '7.1(wide-side)': 'FL+FR+FC+LFE+FLC+FRC+SL+SR',
  '5.1.2': 'FL+FR+FC+LFE+SL+SR+TFL+TFR',
  '5.1.2(back)': 'FL+FR+FC+LFE+BL+BR+TFL+TFR',
  octagonal: 'FL+FR+FC+BL+BR+BC+SL+SR',
  cube: 'FL+FR+BL+BR+TFL+TFR+TBL+TBR',
  // ffmpeg 6.1 defined 5.1.4 on the back surrounds and 7.0 on the side ones: same positions either way.
  '5.1.4': 'FL+FR+FC+LFE+BL+BR+TFL+TFR+TBL+TBR',
  '7.1.2': 'FL+FR+FC+LFE+BL+BR+SL+SR+TFL+TFR',
  '7.1.4': 'FL+FR+FC+LFE+BL+BR+SL+SR+TFL+TFR+TBL+TBR',
  '7.2.3': 'FL+FR+FC+LFE+BL+BR+SL+SR+TFL+TFR+TBC+LFE2',
  '9.1.4': 'FL+FR+FC+LFE+BL+BR+FLC+FRC+SL+SR+TFL+TFR+TBL+TBR',
  '9.1.6': 'FL+FR+FC+LFE+BL+BR+FLC+FRC+SL+SR+TFL+TFR+TBL+TBR+TSL+TSR',
  hexadecagonal: 'FL+FR+FC+BL+BR+BC+SL+SR+TFL+TFC+TFR+TBL+TBC+TBR+WL+WR',
  binaural: 'BIL+BIR',
  downmix: 'DL+DR',
  '22.2': 'FL+FR+FC+LFE+BL+BR+FLC+FRC+BC+SL+SR+TC+TFL+TFC+TFR+TBL+TBC+TBR+LFE2+TSL+TSR+BFC+BFL+BFR',
};

/**
 * What an unlabelled stream of N channels is taken to be: the SMPTE / WAVE order, which is ffmpeg's default
 * layout for N except 3 (ffmpeg guesses 2.1; 3.0 keeps a possible centre audible instead of dropping it as LFE).
 */
const UNLABELLED: Record<number, string> = {
  1: 'mono',
  2: 'stereo',
  3: '3.0',
  4: '4.0',
  5: '5.0',
  6: '5.1',
  7: '6.1',
  8: '7.1',
};

/** The channels of SURROUND_LAYOUT, in order. */
const SURROUND_CHANNELS = ['FL', 'FR', 'FC', 'LFE', 'SL', 'SR'];

function nativeOrder(set: string): string[] {
  return set.split('+').sort((a, b) => NATIVE_ORDER.indexOf(a) - NATIVE_ORDER.indexOf(b));
}

/**
 * The channel at each input index ("?" where unknown). A named layout or an explicit "N channels (A+B+...)" list
 * wins when its count matches; anything else is read as the unlabelled default for the count, and channels past
 * the eighth of an unlabelled stream are "?".
 */
export function channelNames(source: AudioSourceLayout): string[] {
  const n = source.channels;
  const layout = source.layout?.trim() ?? '';
  const listed = /\(([A-Za-z0-9+]+)\)$/.exec(layout)?.[1]?.split('+');
  const named = NAMED_LAYOUTS[layout];
  const known = named ? nativeOrder(named) : listed;
  if (known && known.length === n) return known;
  const fallback = nativeOrder(NAMED_LAYOUTS[UNLABELLED[Math.min(n, 8)] ?? 'mono'] ?? 'FC');
  return Array.from({ length: n }, (_, i) => fallback[i] ?? '?');
}

type Gains = Record<string, number>;

/** Stereo gains of one input channel: BS.775 / A/52 Lo/Ro with centre and surrounds at -3 dB, LFE dropped. */
function stereoGains(name: string): Gains {
  if (name === 'FL' || name === 'FLC' || name === 'DL' || name === 'BIL') return { FL: 1 };
  if (name === 'FR' || name === 'FRC' || name === 'DR' || name === 'BIR') return { FR: 1 };
  if (name === 'FC') return { FL: MINUS_3DB, FR: MINUS_3DB };
  if (name === 'LFE' || name === 'LFE2') return {};
  if (/^(BL|SL|WL|SDL|SSL|TFL|TBL|TSL|TTL|BFL)$/.test(name)) return { FL: MINUS_3DB };
  if (/^(BR|SR|WR|SDR|SSR|TFR|TBR|TSR|TTR|BFR)$/.test(name)) return { FR: MINUS_3DB };
  // BC, TC, TFC, TBC, BFC and channels of unknown position: both sides at -6 dB (audible, never dropped).
  return { FL: MINUS_6DB, FR: MINUS_6DB };
}

/** 5.1(side) gains of one input channel: the five main channels and LFE kept, everything else folded in. */
function surroundGains(name: string, present: ReadonlySet<string>): Gains {
  if (SURROUND_CHANNELS.includes(name)) return { [name]: 1 };
  // Back surrounds are the surrounds of a 5.1 (back) layout; next to side ones (7.1) they fold in at -3 dB.
  if (name === 'BL') return { SL: present.has('SL') ? MINUS_3DB : 1 };
  if (name === 'BR') return { SR: present.has('SR') ? MINUS_3DB : 1 };
  if (name === 'FLC' || name === 'DL' || name === 'BIL') return { FL: 1 };
  if (name === 'FRC' || name === 'DR' || name === 'BIR') return { FR: 1 };
  if (name === 'LFE2') return { LFE: MINUS_3DB };
  if (name === 'BC' || name === 'TBC') return { SL: MINUS_3DB, SR: MINUS_3DB };
  if (/^(WL|TFL|BFL)$/.test(name)) return { FL: MINUS_3DB };
  if (/^(WR|TFR|BFR)$/.test(name)) return { FR: MINUS_3DB };
  if (/^(SDL|SSL|TBL|TSL|TTL)$/.test(name)) return { SL: MINUS_3DB };
  if (/^(SDR|SSR|TBR|TSR|TTR)$/.test(name)) return { SR: MINUS_3DB };
  return { FC: MINUS_3DB }; // TC, TFC, BFC, unknown position: with the dialogue, audible.
}

/** Mixing matrix: for each output channel, the gain of each input index (absent = 0). */
type Matrix = Map<string, Map<number, number>>;

function buildMatrix(names: string[], outputs: string[], gainsOf: (name: string) => Gains): Matrix {
  const matrix: Matrix = new Map(outputs.map((o) => [o, new Map<number, number>()]));
  names.forEach((name, index) => {
    for (const [out, gain] of Object.entries(gainsOf(name))) matrix.get(out)?.set(index, gain);
  });
  return matrix;
}

function formatGain(gain: number): string {
  return String(Number(gain.toFixed(4)));
}

/** pan=<layout>|OUT=g*cI+...; outputs without inputs are left out (pan makes them silent). */
function panFilter(layout: string, matrix: Matrix): string {
  const specs: string[] = [];
  for (const [out, terms] of matrix) {
    const sum = [...terms].map(([i, g]) => (g === 1 ? `c${i}` : `${formatGain(g)}*c${i}`)).join('+');
    if (sum) specs.push(`${out}=${sum}`);
  }
  return ['pan=' + layout, ...specs].join('|');
}

/** True when some output sums more than full scale from full-scale inputs, so the mix needs the limiter. */
function canClip(matrix: Matrix): boolean {
  return [...matrix.values()].some((terms) => [...terms.values()].reduce((a, g) => a + Math.abs(g), 0) > 1.0001);
}

function mixFilters(layout: string, matrix: Matrix): string[] {
  return canClip(matrix) ? [FLOAT, panFilter(layout, matrix), LIMITER] : [FLOAT, panFilter(layout, matrix)];
}

/**
 * Filters (to join with ',') that make the 2 channels of the AAC stereo group from a source audio stream.
 * Empty for a stereo source (or 2 unlabelled channels, which ffmpeg reads as stereo): nothing to do. Mono goes to
 * both sides at -3 dB (what `-ac 2` does too: a mono track is a centre channel). Anything else gets the fixed
 * matrix in float, with the limiter when the matrix can sum past full scale.
 */
export function stereoDownmixFilters(source: AudioSourceLayout): string[] {
  const names = channelNames(source);
  if (names.join('+') === 'FL+FR') return [];
  return mixFilters('stereo', buildMatrix(names, ['FL', 'FR'], stereoGains));
}

/**
 * Filters (to join with ',') that make the 6 channels of the surround group (SURROUND_LAYOUT, accepted by both
 * the ac3 and the eac3 encoder) from a source stream of more than 2 channels; null for 2 or fewer (no surround
 * rendition then). Empty when the source already is 5.1(side). 5.0 and smaller layouts get a silent LFE and
 * silent missing channels (one group layout, CHANNELS="6", for every track); 7.1 and larger fold into 5.1.
 */
export function surroundFilters(source: AudioSourceLayout): string[] | null {
  if (source.channels <= 2) return null;
  const names = channelNames(source);
  if (names.join('+') === SURROUND_CHANNELS.join('+')) return [];
  const present = new Set(names);
  const outputs = SURROUND_CHANNELS;
  return mixFilters(
    SURROUND_LAYOUT,
    buildMatrix(names, outputs, (n) => surroundGains(n, present)),
  );
}
