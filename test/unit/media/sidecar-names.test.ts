/**
 * Subtitle files beside a source, named the Jellyfin/Plex way: which belong to the source, and what their names
 * say (language, forced, hearing impaired, default, title).
 */
import { describe, expect, it } from 'vitest';
import { parseSidecarName, type SidecarInfo } from '../../../src/media/sidecar-names.js';

const SOURCE = 'Movie (2001).mkv';
const none = { forced: false, hearingImpaired: false, isDefault: false };
const info = (fields: Partial<SidecarInfo>): SidecarInfo => ({ format: 'srt', ...none, ...fields });

describe('parseSidecarName', () => {
  it.each<[string, SidecarInfo]>([
    ['Movie (2001).srt', info({})],
    ['Movie (2001).en.srt', info({ language: 'en' })],
    ['Movie (2001).eng.srt', info({ language: 'en' })],
    ['Movie (2001).fre.srt', info({ language: 'fr' })],
    ['Movie (2001).fr.forced.srt', info({ language: 'fr', forced: true })],
    ['Movie (2001).forced.fr.srt', info({ language: 'fr', forced: true })],
    ['Movie (2001).fr.foreign.srt', info({ language: 'fr', forced: true })],
    ['Movie (2001).de.sdh.vtt', info({ format: 'webvtt', language: 'de', hearingImpaired: true })],
    ['Movie (2001).en.cc.srt', info({ language: 'en', hearingImpaired: true })],
    ['Movie (2001).en.hi.srt', info({ language: 'en', hearingImpaired: true })],
    ['Movie (2001).hi.en.srt', info({ language: 'en', hearingImpaired: true })],
    ['Movie (2001).hi.srt', info({ language: 'hi' })],
    ['Movie (2001).hi.hi.srt', info({ language: 'hi', hearingImpaired: true })],
    ['Movie (2001).pt-BR.srt', info({ language: 'pt-BR' })],
    ['Movie (2001).pt_br.srt', info({ language: 'pt-BR' })],
    ['Movie (2001).English.srt', info({ language: 'en' })],
    ['Movie (2001).Deutsch.Forced.srt', info({ language: 'de', forced: true })],
    ['Movie (2001).en.default.srt', info({ language: 'en', isDefault: true })],
    [
      'Movie (2001).EN.SDH.FORCED.DEFAULT.SRT',
      info({ language: 'en', hearingImpaired: true, forced: true, isDefault: true }),
    ],
    ['Movie (2001).ssa', info({ format: 'ass' })],
    ['Movie (2001).ja.ass', info({ format: 'ass', language: 'ja' })],
    ['Movie (2001).webvtt', info({ format: 'webvtt' })],
    ['Movie (2001).SRT', info({})],
    ['Movie (2001).en.Director Notes.srt', info({ language: 'en', title: 'Director Notes' })],
    ['Movie (2001).Signs.and.Songs.en.srt', info({ language: 'en', title: 'Signs.and.Songs' })],
    // the first language wins; a second one is part of the title
    ['Movie (2001).en.fr.srt', info({ language: 'en', title: 'fr' })],
    // words that happen to be rare three-letter codes stay words
    ['Movie (2001).dts.new.srt', info({ title: 'dts.new' })],
    ['Movie (2001).fil.srt', info({ language: 'fil' })],
    ['Movie (2001)..en..srt', info({ language: 'en' })],
  ])('%s', (candidate, expected) => {
    expect(parseSidecarName(SOURCE, candidate)).toEqual(expected);
  });

  it.each([
    'Movie (2001) 2.en.srt', // another film whose name starts like ours
    'Movie.en.srt', // a shorter name
    'Movie (2001)',
    'Movie (2001).mkv', // the source itself
    'Movie (2001).nfo',
    'Movie (2001).jpg',
    'Movie (2001).en.sub', // VobSub: image subtitles are not ours
    'Movie (2001).en.idx',
    'Movie (2001).en.sup',
    'Movie (2001).en.srt.bak',
    '._Movie (2001).en.srt', // macOS resource fork
    'movie (2001).en.srt', // case differs: matched only when asked
    'sub/Movie (2001).en.srt',
    '..\\Movie (2001).en.srt',
    'Movie (2001).en\n.srt',
    '.srt',
    '',
  ])('%j is not a sidecar of the source', (candidate) => {
    expect(parseSidecarName(SOURCE, candidate)).toBeNull();
  });

  it('folds case on request, on the name and always on the extension', () => {
    expect(parseSidecarName(SOURCE, 'MOVIE (2001).fr.forced.SRT', { caseInsensitive: true })).toEqual(
      info({ language: 'fr', forced: true }),
    );
    expect(parseSidecarName(SOURCE, 'MOVIE (2001).fr.srt', { caseInsensitive: false })).toBeNull();
    expect(parseSidecarName(SOURCE, 'MOVIE (2001) 2.fr.srt', { caseInsensitive: true })).toBeNull();
  });

  it('matches a name written in another Unicode normal form (a file copied from a Mac)', () => {
    const nfc = 'Am\u00e9lie.mkv';
    const nfd = 'Ame\u0301lie.fr.srt';
    expect(parseSidecarName(nfc, nfd)).toEqual(info({ language: 'fr' }));
  });

  it('accepts the source as a path and sources with dots or without an extension', () => {
    expect(parseSidecarName('/nas/Movies/Movie (2001).mkv', 'Movie (2001).en.srt')).toEqual(info({ language: 'en' }));
    expect(parseSidecarName('Movie.2001.1080p.mkv', 'Movie.2001.1080p.it.srt')).toEqual(info({ language: 'it' }));
    expect(parseSidecarName('Movie.2001.1080p.mkv', 'Movie.2001.it.srt')).toBeNull();
    expect(parseSidecarName('Movie', 'Movie.en.srt')).toEqual(info({ language: 'en' }));
  });
});
