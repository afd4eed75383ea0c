/**
 * Whether the AV1 temporal unit that opens an fMP4 segment can be shown on its own (the AV1 counterpart of
 * iframe-pictures.ts): its first frame must be a KEY_FRAME that is shown (AV1 spec 5.9.2, uncompressed_header;
 * AV1-ISOBMFF 2.4 defines a sync sample so). An INTRA_ONLY frame does not count: the frames after it may refer to
 * frames before it, and a frame shown through show_existing_frame needs the temporal units that decoded it.
 * Pure functions over bytes.
 */
import { OBU_FRAME, OBU_FRAME_HEADER, OBU_SEQUENCE_HEADER, obus, parseAv1SequenceHeader } from './av1-config.js';

const FRAME_TYPES = ['KEY_FRAME', 'INTER_FRAME', 'INTRA_ONLY_FRAME', 'SWITCH_FRAME'];

/**
 * Why the first frame of an AV1 sample (a temporal unit of OBUs in the low-overhead format) is not a shown key
 * frame, or undefined when it is. `reducedStillPictureHeader` comes from the sequence header in the init section;
 * a sequence header inside the sample takes precedence.
 */
export function av1KeyFrameProblem(sample: Uint8Array, reducedStillPictureHeader = false): string | undefined {
  let reduced = reducedStillPictureHeader;
  try {
    for (const obu of obus(sample)) {
      if (obu.type === OBU_SEQUENCE_HEADER) {
        const seq = parseAv1SequenceHeader(obu.payload);
        if (!seq) return 'its sequence header cannot be read';
        reduced = seq.reducedStillPictureHeader;
      }
      if (obu.type !== OBU_FRAME_HEADER && obu.type !== OBU_FRAME) continue;
      // A reduced still picture header implies a shown key frame.
      if (reduced) return undefined;
      const first = obu.payload[0];
      if (first === undefined) return 'its first frame header is empty';
      if (first & 0x80) return 'its first frame repeats an earlier frame (show_existing_frame)';
      const frameType = (first >> 5) & 3;
      if (frameType !== 0) return `its first frame is an AV1 ${FRAME_TYPES[frameType]}, not a KEY_FRAME`;
      if ((first & 0x10) === 0) return 'its first frame is a key frame that is not shown (show_frame = 0)';
      return undefined;
    }
  } catch (err) {
    return (err as Error).message;
  }
  return 'no frame found in the first temporal unit';
}
