/**
 * Language tags as sources carry them (ISO 639-2 "fre", "ger", "eng" from Matroska and MP4, BCP-47 "pt-BR", a
 * language name in a sidecar file's name) turned into the BCP-47 tag that HLS's LANGUAGE attribute wants, and a
 * readable name for a player's menu. Pure: the only data besides the table below is Node's ICU (full-icu is built in).
 */

/**
 * Every ISO 639-1 language: "two-letter 639-2/T [639-2/B]" (the /B code only where it differs). 639-1 is what
 * BCP-47 prefers wherever it has a code, so any three-letter code listed here maps to its two-letter one.
 */
const ISO_639_TABLE =
  'aa aar|ab abk|ae ave|af afr|ak aka|am amh|an arg|ar ara|as asm|av ava|ay aym|az aze|ba bak|be bel|bg bul|' +
  'bi bis|bm bam|bn ben|bo bod tib|br bre|bs bos|ca cat|ce che|ch cha|co cos|cr cre|cs ces cze|cu chu|cv chv|' +
  'cy cym wel|da dan|de deu ger|dv div|dz dzo|ee ewe|el ell gre|en eng|eo epo|es spa|et est|eu eus baq|' +
  'fa fas per|ff ful|fi fin|fj fij|fo fao|fr fra fre|fy fry|ga gle|gd gla|gl glg|gn grn|gu guj|gv glv|ha hau|' +
  'he heb|hi hin|ho hmo|hr hrv|ht hat|hu hun|hy hye arm|hz her|ia ina|id ind|ie ile|ig ibo|ii iii|ik ipk|io ido|' +
  'is isl ice|it ita|iu iku|ja jpn|jv jav|ka kat geo|kg kon|ki kik|kj kua|kk kaz|kl kal|km khm|kn kan|ko kor|' +
  'kr kau|ks kas|ku kur|kv kom|kw cor|ky kir|la lat|lb ltz|lg lug|li lim|ln lin|lo lao|lt lit|lu lub|lv lav|' +
  'mg mlg|mh mah|mi mri mao|mk mkd mac|ml mal|mn mon|mr mar|ms msa may|mt mlt|my mya bur|na nau|nb nob|nd nde|' +
  'ne nep|ng ndo|nl nld dut|nn nno|no nor|nr nbl|nv nav|ny nya|oc oci|oj oji|om orm|or ori|os oss|pa pan|pi pli|' +
  'pl pol|ps pus|pt por|qu que|rm roh|rn run|ro ron rum|ru rus|rw kin|sa san|sc srd|sd snd|se sme|sg sag|si sin|' +
  'sk slk slo|sl slv|sm smo|sn sna|so som|sq sqi alb|sr srp|ss ssw|st sot|su sun|sv swe|sw swa|ta tam|te tel|' +
  'tg tgk|th tha|ti tir|tk tuk|tl tgl|tn tsn|to ton|tr tur|ts tso|tt tat|tw twi|ty tah|ug uig|uk ukr|ur urd|' +
  'uz uzb|ve ven|vi vie|vo vol|wa wln|wo wol|xh xho|yi yid|yo yor|za zha|zh zho chi|zu zul';

/** ISO 639-1 codes, and each 639-2 (/T and /B) code mapped to its 639-1 code. */
export const ISO_639_1 = new Set<string>();
export const ISO_639_2_TO_1 = new Map<string, string>();
for (const entry of ISO_639_TABLE.split('|')) {
  const [two, ...threes] = entry.split(' ');
  ISO_639_1.add(two!);
  for (const three of threes) ISO_639_2_TO_1.set(three, two!);
}

/**
 * Tags that name no language a player could show: undetermined, multiple, no linguistic content, uncoded, and the
 * private-use range qaa–qtz (DVB's "original audio" and the like: meaningful only to whoever made the file).
 */
function isNoLanguage(primary: string): boolean {
  return ['und', 'mul', 'zxx', 'mis'].includes(primary) || /^q[a-t][a-z]$/.test(primary);
}

/** Lower-cased, accents stripped, spaces collapsed: "Français " and "francais" are one key. */
function nameKey(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s_]+/g, ' ')
    .trim();
}

/** Names people write instead of a code that ICU's display names do not give (or give for another tag). */
const EXTRA_NAMES: Readonly<Record<string, string>> = {
  farsi: 'fa',
  flemish: 'nl-BE',
  brazilian: 'pt-BR',
  'brazilian portuguese': 'pt-BR',
  'portuguese brazil': 'pt-BR',
  'portuguese (brazil)': 'pt-BR',
  'european portuguese': 'pt-PT',
  castilian: 'es-ES',
  castellano: 'es',
  'latin american spanish': 'es-419',
  'spanish latin america': 'es-419',
  'spanish (latin america)': 'es-419',
  latino: 'es-419',
  'canadian french': 'fr-CA',
  'french canadian': 'fr-CA',
  'french (canada)': 'fr-CA',
  mandarin: 'zh',
  cantonese: 'yue',
  'simplified chinese': 'zh-Hans',
  'traditional chinese': 'zh-Hant',
  'chinese simplified': 'zh-Hans',
  'chinese traditional': 'zh-Hant',
  'chinese (simplified)': 'zh-Hans',
  'chinese (traditional)': 'zh-Hant',
  filipino: 'fil',
  slovene: 'sl',
  moldovan: 'ro',
};

/** Language name (English, or the language's own: "German", "Deutsch", "日本語") → code, built once from ICU. */
const NAME_TO_CODE: ReadonlyMap<string, string> = (() => {
  const names = new Map<string, string>();
  const english = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });
  const add = (name: string | undefined, code: string) => {
    const key = name === undefined ? '' : nameKey(name);
    // A name of one to three Latin letters would read as a code ("Ewe", "Lao"): codes stay authoritative.
    if (key !== '' && !/^[a-z]{1,3}$/.test(key) && !names.has(key)) names.set(key, code);
  };
  for (const [name, code] of Object.entries(EXTRA_NAMES)) add(name, code);
  for (const code of ISO_639_1) add(english.of(code), code);
  for (const code of ISO_639_1) add(ownName(code), code);
  return names;
})();

/** The language's name in itself as ICU has it, or undefined where ICU has none for that locale. */
function ownName(tag: string): string | undefined {
  try {
    // 'standard' keeps the region visible and regular: "English (United States)", not "American English".
    const name = new Intl.DisplayNames([tag], { type: 'language', fallback: 'none', languageDisplay: 'standard' }).of(
      tag,
    );
    return name === undefined || name.toLowerCase() === tag.toLowerCase() ? undefined : name;
  } catch {
    return undefined;
  }
}

/** A primary language subtag (2–3 letters), then subtags of 1–8 letters or digits ("pt_BR", "es-419", "zh-Hant"). */
const TAG_SHAPE = /^[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*$/i;

/**
 * BCP-47 for a stream's or a file name's language tag: "fre"/"fra" → "fr", "EN" → "en", "pt-br" → "pt-BR",
 * "en_US" → "en-US", "English"/"Deutsch" → "en"/"de". A three-letter code with no two-letter equivalent stays
 * ("fil", "yue"). Undefined when the tag names no language ("und", "mul", "zxx", "mis", qaa–qtz) or is not a tag at
 * all (empty, digits, quotes, spaces that are no language name, more than 35 characters). Deprecated codes come out
 * in their current form (ICU's canonical form: "iw" → "he", "in" → "id").
 */
export function toBcp47(tag: string | undefined): string | undefined {
  if (tag === undefined) return undefined;
  const trimmed = tag.trim();
  if (trimmed === '' || trimmed.length > 35) return undefined;
  const named = NAME_TO_CODE.get(nameKey(trimmed));
  if (named !== undefined) return named;
  if (!TAG_SHAPE.test(trimmed)) return undefined;
  const [first, ...rest] = trimmed.toLowerCase().split(/[-_]/);
  const primary = ISO_639_2_TO_1.get(first!) ?? first!;
  if (isNoLanguage(primary)) return undefined;
  try {
    return Intl.getCanonicalLocales([primary, ...rest].join('-'))[0];
  } catch {
    // The language is known even when a later subtag is malformed ("zh-cmn", "en-xyz123"): keep the language.
    return Intl.getCanonicalLocales(primary)[0];
  }
}

/**
 * Whether ICU knows a name for the tag's language: "fr", "fil" and "yue" yes, "abc" or "xx" no. A sidecar file's
 * name token counts as a language only when this holds, so "Movie.dts.srt" does not become a language "dts".
 */
export function isKnownLanguage(bcp47: string): boolean {
  const primary = bcp47.split('-')[0]!.toLowerCase();
  if (ISO_639_1.has(primary)) return true;
  try {
    return new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' }).of(primary) !== undefined;
  } catch {
    return false;
  }
}

/** First letter upper-cased by the language's own rules ("français" → "Français"); scripts without case unchanged. */
function capitalise(name: string, tag: string): string {
  const [first = '', ...rest] = Array.from(name);
  let upper: string;
  try {
    upper = first.toLocaleUpperCase(tag);
  } catch {
    upper = first.toUpperCase();
  }
  return upper + rest.join('');
}

/**
 * A readable name for a menu, in the language itself: "English", "Français", "Deutsch", "Español", "日本語",
 * "Português (Brasil)". Falls back to the English name, then to the tag itself, so it never throws.
 */
export function languageName(bcp47: string): string {
  const own = ownName(bcp47);
  if (own !== undefined) return capitalise(own, bcp47);
  try {
    const english = new Intl.DisplayNames(['en'], {
      type: 'language',
      fallback: 'none',
      languageDisplay: 'standard',
    }).of(bcp47);
    if (english !== undefined && english.toLowerCase() !== bcp47.toLowerCase()) return capitalise(english, 'en');
  } catch {
    // An invalid tag has no name in any language: the tag itself is the best we have.
  }
  return bcp47;
}
