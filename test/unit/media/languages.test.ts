/**
 * Language tags from sources and sidecar names → BCP-47 for HLS's LANGUAGE, and names for a player's menu.
 * The table is checked against ICU's own alias data, so a typo in one of its ~180 entries fails here.
 */
import { describe, expect, it } from 'vitest';
import { ISO_639_1, ISO_639_2_TO_1, isKnownLanguage, languageName, toBcp47 } from '../../../src/media/languages.js';

describe('toBcp47', () => {
  it.each([
    // ISO 639-2/B and /T pairs, both ways to the one 639-1 code
    ['fre', 'fr'],
    ['fra', 'fr'],
    ['ger', 'de'],
    ['deu', 'de'],
    ['dut', 'nl'],
    ['nld', 'nl'],
    ['chi', 'zh'],
    ['zho', 'zh'],
    ['cze', 'cs'],
    ['ces', 'cs'],
    ['gre', 'el'],
    ['ell', 'el'],
    ['per', 'fa'],
    ['fas', 'fa'],
    ['rum', 'ro'],
    ['ron', 'ro'],
    ['slo', 'sk'],
    ['slk', 'sk'],
    ['wel', 'cy'],
    ['cym', 'cy'],
    ['arm', 'hy'],
    ['hye', 'hy'],
    ['baq', 'eu'],
    ['eus', 'eu'],
    ['bur', 'my'],
    ['mya', 'my'],
    ['geo', 'ka'],
    ['kat', 'ka'],
    ['ice', 'is'],
    ['isl', 'is'],
    ['mac', 'mk'],
    ['mkd', 'mk'],
    ['mao', 'mi'],
    ['mri', 'mi'],
    ['may', 'ms'],
    ['msa', 'ms'],
    ['alb', 'sq'],
    ['sqi', 'sq'],
    ['tib', 'bo'],
    ['bod', 'bo'],
    // common /T codes
    ['eng', 'en'],
    ['spa', 'es'],
    ['ita', 'it'],
    ['por', 'pt'],
    ['jpn', 'ja'],
    ['kor', 'ko'],
    ['rus', 'ru'],
    ['ara', 'ar'],
    ['hin', 'hi'],
    ['swe', 'sv'],
    ['nor', 'no'],
    ['nob', 'nb'],
    ['dan', 'da'],
    ['fin', 'fi'],
    ['pol', 'pl'],
    ['tur', 'tr'],
    ['heb', 'he'],
    ['hun', 'hu'],
    ['tha', 'th'],
    ['vie', 'vi'],
    ['ukr', 'uk'],
    ['ind', 'id'],
    ['cat', 'ca'],
    ['hrv', 'hr'],
    ['srp', 'sr'],
    ['bul', 'bg'],
    ['lit', 'lt'],
    ['lav', 'lv'],
    ['est', 'et'],
    ['slv', 'sl'],
    // case, whitespace, two-letter codes, regions and scripts
    ['ENG', 'en'],
    [' Fre ', 'fr'],
    ['EN', 'en'],
    ['de', 'de'],
    ['pt-br', 'pt-BR'],
    ['PT-BR', 'pt-BR'],
    ['zh-hant', 'zh-Hant'],
    ['en_US', 'en-US'],
    ['es-419', 'es-419'],
    ['por-BR', 'pt-BR'],
    // three-letter codes with no two-letter one stay; deprecated codes come out current
    ['fil', 'fil'],
    ['yue', 'yue'],
    ['iw', 'he'],
    ['in', 'id'],
    // a malformed later subtag keeps the language
    ['zh-cmn', 'zh'],
    // language names, English or the language's own, with or without accents
    ['English', 'en'],
    ['french', 'fr'],
    ['Deutsch', 'de'],
    ['GERMAN', 'de'],
    ['Français', 'fr'],
    ['francais', 'fr'],
    ['Español', 'es'],
    ['日本語', 'ja'],
    ['Brazilian Portuguese', 'pt-BR'],
    ['Farsi', 'fa'],
    ['Cantonese', 'yue'],
  ])('%j → %s', (tag, expected) => {
    expect(toBcp47(tag)).toBe(expected);
  });

  it.each([
    undefined,
    '',
    '   ',
    'und',
    'UND',
    'mul',
    'zxx',
    'mis',
    'qaa',
    'qtz',
    'x',
    '123',
    'e1',
    '"en"',
    "'en'",
    'en us',
    'en-',
    'not a language',
    'a'.repeat(36),
    'e\nn',
    'english\u0000',
  ])('%j names no language', (tag) => {
    expect(toBcp47(tag)).toBeUndefined();
  });

  it('agrees with ICU on every three-letter code of the table', () => {
    let checked = 0;
    for (const two of ISO_639_1) {
      expect(toBcp47(two), two).toBe(Intl.getCanonicalLocales(two)[0]);
      checked++;
    }
    // ICU's alias data knows the 639-2 → 639-1 mapping: the hand-written table must say the same thing.
    for (const [three, two] of ISO_639_2_TO_1) {
      expect(ISO_639_1.has(two), three).toBe(true);
      // CLDR folds Twi into its macrolanguage Akan ("twi" → "ak"); ISO 639-1 keeps "tw", and so do we.
      const icu = three === 'twi' ? 'tw' : Intl.getCanonicalLocales(three)[0];
      expect(toBcp47(three), three).toBe(icu);
    }
    expect(checked).toBeGreaterThanOrEqual(183);
    expect(ISO_639_2_TO_1.size).toBe(checked + 20); // 20 languages have a /B code besides the /T one
  });
});

describe('languageName', () => {
  it.each([
    ['en', 'English'],
    ['fr', 'Français'],
    ['de', 'Deutsch'],
    ['es', 'Español'],
    ['ja', '日本語'],
    ['it', 'Italiano'],
    ['ru', 'Русский'],
    ['sv', 'Svenska'],
    ['pt-BR', 'Português (Brasil)'],
  ])('%s → %s', (tag, name) => {
    expect(languageName(tag)).toBe(name);
  });

  it('falls back to English, then to the tag itself', () => {
    // ICU has no locale data in Abkhaz: the English name is the readable one.
    expect(languageName('ab')).toBe('Abkhazian');
    expect(languageName('qqq')).toBe('qqq');
    expect(languageName('not a tag')).toBe('not a tag');
  });

  it('gives a non-empty name for every two-letter code', () => {
    for (const code of ISO_639_1) {
      const name = languageName(toBcp47(code)!);
      expect(name.length, code).toBeGreaterThan(0);
      expect(name, code).not.toMatch(/^[a-z]{2}$/);
    }
  });
});

describe('isKnownLanguage', () => {
  it('knows real languages and not invented codes', () => {
    expect(isKnownLanguage('fr')).toBe(true);
    expect(isKnownLanguage('pt-BR')).toBe(true);
    expect(isKnownLanguage('fil')).toBe(true);
    expect(isKnownLanguage('abc')).toBe(false);
    expect(isKnownLanguage('xx')).toBe(false);
  });
});
