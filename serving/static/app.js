// casecast page: calls the API and words its numbers in the page's language.
// Every string comes from the catalogue the server embedded (#strings); nothing from the
// API is written as HTML: the DOM is built node by node.
'use strict';

const T = JSON.parse(document.getElementById('strings').textContent);
// What each data set's spec shows: its search filters and the claimant's optional fields.
const LAYOUT = JSON.parse(document.getElementById('layout').textContent);
function showFilters(dataset) {
  const shown = LAYOUT[dataset]?.filters;
  document.querySelectorAll('[data-filter]').forEach((label) => {
    const visible = !shown || shown.includes(label.dataset.filter);
    label.hidden = !visible;
    if (!visible) label.querySelectorAll('input').forEach((input) => { input.value = ''; });
  });
}
const LANG = document.documentElement.lang;
const percent = new Intl.NumberFormat(LANG, { style: 'percent', maximumFractionDigits: 0 });
const points = new Intl.NumberFormat(LANG, { maximumFractionDigits: 1 });
const integer = new Intl.NumberFormat(LANG);
const day = new Intl.DateTimeFormat(LANG, { dateStyle: 'medium', timeStyle: 'short' });
const KEY_STORE = 'casecast-key';

function t(key, vars = {}) {
  let text = T[key] ?? key;
  for (const [name, value] of Object.entries(vars)) text = text.replaceAll(`{${name}}`, value);
  return text;
}
const outcome = (label) => T[`outcome.${label}`] ?? String(label).replaceAll('_', ' ');
const fieldName = (name) => T[`field.${name}`] ?? name;
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

async function api(path, { method = 'GET', body, form } = {}) {
  const headers = {};
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers.Authorization = `Bearer ${key}`;
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload });
  } catch {
    throw new ApiError(t('error.network'), 0);
  }
  if (response.headers.get('content-type')?.startsWith('image/')) {
    if (!response.ok) throw new ApiError(t('error.other', { message: response.statusText }), response.status);
    return response.blob();
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(errorText(response, data), response.status);
  return data;
}

function errorText(response, data) {
  const message = data?.error?.message ?? response.statusText;
  const key = `error.${response.status}`;
  if (response.status === 429) return t(key, { seconds: response.headers.get('Retry-After') ?? '1' });
  if (!(key in T)) return t('error.other', { message });
  const text = t(key, { message });
  // Where the catalogue has no room for the server's reason, it follows in parentheses.
  return T[key].includes('{message}') ? text : `${text} (${message})`;
}

function showError(target, error) {
  target.replaceChildren(el('p', { class: 'error', role: 'alert' }, error.message));
  if (error.status === 401) $('api-key').closest('details').open = true;
}

function busy(target, message) {
  target.replaceChildren(el('p', {}, el('progress', { 'aria-label': message }), ' ', message));
}

// -- the key --------------------------------------------------------------------------------

$('api-key').value = sessionStorage.getItem(KEY_STORE) ?? '';
$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('api-key').value.trim();
  if (key) sessionStorage.setItem(KEY_STORE, key); else sessionStorage.removeItem(KEY_STORE);
  loadModel($('dataset').value);
});

// -- views (tabs, keyboard: arrows, Home, End) ----------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];
function select(tab) {
  for (const other of tabs) {
    const chosen = other === tab;
    other.setAttribute('aria-selected', String(chosen));
    other.tabIndex = chosen ? 0 : -1;
    $(other.getAttribute('aria-controls')).hidden = !chosen;
  }
  tab.focus();
}
tabs.forEach((tab, i) => {
  tab.addEventListener('click', () => select(tab));
  tab.addEventListener('keydown', (event) => {
    const moves = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      select(tabs[(moves[event.key] + tabs.length) % tabs.length]);
    }
  });
});

// -- the model: its inputs, allowed values and card ----------------------------------------

const models = {};
async function loadModel(dataset) {
  try {
    models[dataset] = await api(`/v1/model?dataset=${encodeURIComponent(dataset)}`);
  } catch (error) {
    showError($('predict-status'), error);
    return null;
  }
  buildFields(models[dataset], dataset);
  fillOutcomes(models[dataset]);
  return models[dataset];
}

function allowedValues(model, name) {
  const card = model.card;
  if (!card) return [];
  const grouping = card.group_fields?.[name];
  if (grouping && Object.keys(grouping.values).length) return Object.entries(grouping.values);
  const rows = grouping ? card.groups?.[grouping.group] ?? [] : [];
  return rows.map((row) => [row.group, row.group]);
}

// A coded value's name in the page's language, else the data set's own name, else the code.
function valueName(model, name, code) {
  const value = String(code);
  return T[`value.${name}.${value}`] ?? allowedValues(model, name).find(([c]) => c === value)?.[1] ?? value;
}

// "name (code)" where the value has a name of its own, the code alone where it has none.
function namedValue(model, name, code) {
  const label = valueName(model, name, code);
  return label === String(code) ? label : `${label} (${code})`;
}

function fieldInput(model, name, id) {
  const values = allowedValues(model, name);
  if (name === 'year') return el('input', { id, name, type: 'number', min: 1900, max: 2100, inputmode: 'numeric' });
  if (values.length) {
    return el('select', { id, name }, el('option', { value: '' }, '—'),
      values.map(([code]) => el('option', { value: code }, namedValue(model, name, code))));
  }
  return el('input', { id, name });
}

function buildFields(model, dataset) {
  const form = LAYOUT[dataset]?.form;
  const names = model.inputs.filter((name) => name !== 'text' && (!form || form.includes(name)));
  $('field-inputs').replaceChildren(...names.map((name) => el('div', { class: 'field' },
    el('label', { for: `field-${name}` }, fieldName(name)), fieldInput(model, name, `field-${name}`))));
  $('fields').hidden = names.length === 0;
}

function fillOutcomes(model) {
  const select_ = $('outcome-filter');
  select_.replaceChildren(el('option', { value: '' }, t('judge.any')),
    (model.outcomes ?? []).map((label) => el('option', { value: label }, outcome(label))));
}

function currentFields() {
  const fields = {};
  for (const input of $('field-inputs').querySelectorAll('input, select')) {
    const value = input.value.trim();
    if (value) fields[input.name] = input.type === 'number' ? Number(value) : value;
  }
  return fields;
}

// -- claimant: upload, predict, explain, what-if, precedents --------------------------------

$('dataset').addEventListener('change', () => loadModel($('dataset').value));

$('upload').addEventListener('change', async () => {
  const file = $('upload').files[0];
  if (!file) return;
  const status = $('predict-status');
  busy(status, t('upload.reading'));
  const form = new FormData();
  form.append('file', file);
  try {
    const read = await api('/v1/documents/text', { method: 'POST', form });
    $('facts').value = read.text;
    status.replaceChildren(el('p', {}, t('upload.done', { pages: integer.format(read.pages), chars: integer.format(read.text.length) })));
    $('facts').focus();
  } catch (error) {
    showError(status, error);
  }
});

$('predict-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const dataset = $('dataset').value;
  const text = $('facts').value;
  const fields = currentFields();
  const status = $('predict-status');
  $('predict-result').replaceChildren();
  busy(status, t('claimant.working'));
  $('predict').disabled = true;
  try {
    const model = models[dataset] ?? await loadModel(dataset);
    const answer = await api('/v1/predict', { method: 'POST', body: { dataset, text, fields, explain: true } });
    status.replaceChildren();
    $('predict-result').replaceChildren(renderPrediction(answer, model, text, fields));
    $('result-heading').focus();
    showPrecedents(dataset, text);
  } catch (error) {
    showError(status, error);
  } finally {
    $('predict').disabled = false;
  }
});

function uncertainty(answer, model) {
  // The calibration error on later cases, or the gap between estimate and outcome in the
  // case's own group where that is larger: how far the bar may be off.
  let spread = model?.card?.scores?.ece ?? 0;
  const group = answer.group_record;
  if (group && !group.too_few && group.mean_probability != null && group.observed_rate != null) {
    spread = Math.max(spread, Math.abs(group.mean_probability - group.observed_rate));
  }
  return spread;
}

function probabilityBars(answer, spread) {
  // An outcome at exactly 0 is one the law rules out for this case (the model card names
  // them): no bar, as no band of uncertainty reaches it.
  const rows = answer.probabilities.filter((row) => row.probability > 0)
    .sort((a, b) => b.probability - a.probability);
  return el('ul', { class: 'bars' }, rows.map((row) => {
    const low = Math.max(0, row.probability - spread);
    const high = Math.min(1, row.probability + spread);
    return el('li', { class: row.label === answer.label ? 'top' : null },
      el('span', { class: 'bar-label' }, outcome(row.label)),
      el('span', { class: 'bar', role: 'img', 'aria-label': `${outcome(row.label)} ${percent.format(row.probability)}` },
        el('span', { class: 'band', style: `left:${low * 100}%;width:${(high - low) * 100}%` }),
        el('span', { class: 'fill', style: `width:${row.probability * 100}%` })),
      el('span', { class: 'bar-value' }, percent.format(row.probability)));
  }), el('li', { class: 'muted small' }, t('result.uncertainty', { points: points.format(spread * 100) })));
}

function trackSentence(record) {
  if (!record) return null;
  const vars = {
    cases: integer.format(record.cases), year: record.validated_from ?? '',
    accuracy: percent.format(record.accuracy), majority: outcome(record.majority_outcome),
    majority_accuracy: percent.format(record.majority_accuracy),
  };
  return el('p', { class: 'track' }, t(record.beats_majority ? 'result.track' : 'result.track_weak', vars));
}

function groupSentences(group, fields) {
  if (!group || !group.cases) return [];
  // The group named as the form names its field; a coded value in the page's language.
  const kind = group.field ? fieldName(group.field).toLocaleLowerCase(document.documentElement.lang || undefined) : group.group;
  const value = T[`value.${group.field}.${fields?.[group.field]}`] ?? group.value;
  const vars = { group: kind, value, cases: integer.format(group.cases) };
  if (group.too_few || group.accuracy == null) return [el('p', { class: 'track' }, t('result.group_few', vars))];
  const lines = [el('p', { class: 'track' }, t('result.group', {
    ...vars, accuracy: percent.format(group.accuracy), majority_accuracy: percent.format(group.majority_accuracy),
  }))];
  if (group.estimates === 'too high' || group.estimates === 'too low') {
    lines.push(el('p', { class: 'track' }, t(group.estimates === 'too high' ? 'result.group_high' : 'result.group_low', {
      group: kind, estimated: percent.format(group.mean_probability), observed: percent.format(group.observed_rate),
    })));
  }
  return lines;
}

function effectText(effect) {
  return t('reasons.effect', { sign: effect >= 0 ? '+' : '−', points: points.format(Math.abs(effect) * 100) });
}

function paragraphsOf(text) {
  return text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
}

function markedParagraph(paragraph, number, reason, label) {
  const kind = reason.effect >= 0 ? 'toward' : 'against';
  const note = `${effectText(reason.effect)}: ${t(kind === 'toward' ? 'reasons.toward' : 'reasons.against', { label: outcome(label) })}`;
  const excerpt = (reason.excerpt ?? '').replace(/…$/, '').trim();
  const at = reason.sentence && excerpt ? paragraph.indexOf(excerpt) : -1;
  const gutter = el('span', { class: 'gutter' }, t('own.paragraph', { n: number }));
  if (at >= 0) {
    return el('p', { id: `own-${number}` }, gutter, paragraph.slice(0, at),
      el('mark', { class: kind, title: note, 'aria-label': note }, paragraph.slice(at, at + excerpt.length)),
      paragraph.slice(at + excerpt.length));
  }
  return el('p', { id: `own-${number}` }, gutter, el('mark', { class: kind, title: note, 'aria-label': note }, paragraph));
}

function markedText(text, reasons, label) {
  // The claimant's own text, each passage or sentence that moved the estimate marked in
  // place (toward the estimated outcome, or away from it); runs of paragraphs that did
  // not are folded, so that the marks are what the eye meets.
  const paragraphs = paragraphsOf(text);
  const passages = reasons.filter((r) => r.kind === 'passage');
  const reasonOf = (number) => passages.find((r) => r.paragraphs && number >= r.paragraphs[0] && number <= r.paragraphs[1]);
  const blocks = [];
  let folded = [];
  const fold = () => {
    if (!folded.length) return;
    blocks.push(el('details', { class: 'folded' }, el('summary', {}, t('own.hidden', { n: integer.format(folded.length) })), folded));
    folded = [];
  };
  paragraphs.forEach((paragraph, index) => {
    const number = index + 1;
    const reason = reasonOf(number);
    if (reason) {
      fold();
      blocks.push(markedParagraph(paragraph, number, reason, label));
    } else {
      folded.push(el('p', {}, el('span', { class: 'gutter' }, t('own.paragraph', { n: number })), paragraph));
    }
  });
  fold();
  return el('div', { class: 'own-text' }, blocks);
}

function reasonList(reasons, label) {
  const passages = reasons.filter((r) => r.kind === 'passage');
  if (!passages.length) return el('p', { class: 'muted' }, t('reasons.none'));
  return el('ul', { class: 'reasons' }, passages.map((r) => {
    const kind = r.effect >= 0 ? 'toward' : 'against';
    const range = r.paragraphs ? (r.paragraphs[0] === r.paragraphs[1] ? r.paragraphs[0] : `${r.paragraphs[0]}–${r.paragraphs[1]}`) : '';
    const target = r.paragraphs ? el('a', { href: `#own-${r.paragraphs[0]}` }, `¶ ${range}`) : null;
    return el('li', { class: kind }, el('span', { class: `swatch ${kind}`, 'aria-hidden': 'true' }),
      target, target ? ': ' : '', effectText(r.effect), ' — ',
      t(kind === 'toward' ? 'reasons.toward' : 'reasons.against', { label: outcome(label) }));
  }));
}

function factorList(reasons, model) {
  const factors = reasons.filter((r) => r.kind === 'feature');
  if (!factors.length) return null;
  return el('div', {}, el('h3', {}, t('factors.heading')), el('ul', {}, factors.map((r) => el('li', {},
    t('factors.line', { field: fieldName(r.feature), value: r.value == null ? '—' : namedValue(model, r.feature, r.value), effect: effectText(r.effect) })))));
}

function readFieldsLine(answer, model, fields) {
  // Fields the model read that the form left empty: a pasted decision's introduction stated
  // them (Russian: the charge, the prior record). Said, so a reader can check them.
  const read = Object.entries(answer.fields ?? {}).filter(([name]) => !(name in fields));
  if (!read.length) return null;
  const named = read.map(([name, value]) => `${fieldName(name)}: ${namedValue(model, name, value)}`);
  return el('p', { id: 'read-fields' }, t('result.read_fields', { fields: named.join('; ') }));
}

function articleLine(answer) {
  if (!answer.articles?.length) return null;
  const likely = answer.articles.filter((a) => a.predicted || a.probability >= 0.3)
    .sort((a, b) => b.probability - a.probability)
    .map((a) => `${a.article === 'P1' ? 'P1' : a.article} ${percent.format(a.probability)}`);
  return el('p', {}, `${t('result.articles')}: `, likely.join(', ') || t('result.none_likely'));
}

function mixLine(mix) {
  // Which class mix the probabilities answer for (later years come in other mixes).
  if (!mix) return null;
  const shares = mix.shares.map((s) => `${outcome(s.label)} ${percent.format(s.probability)}`).join(', ');
  const cases = mix.cases == null ? '' : integer.format(mix.cases);
  return el('p', { id: 'class-mix', class: 'mix' }, t(`result.mix_${mix.source}`, { shares, cases }));
}

function renderPrediction(answer, model, text, fields) {
  const spread = uncertainty(answer, model);
  return el('article', { class: 'result' },
    el('h2', { id: 'result-heading', tabindex: '-1' }, `${t('result.heading')}: ${outcome(answer.label)} (${percent.format(answer.probability)})`),
    probabilityBars(answer, spread),
    mixLine(answer.class_mix),
    trackSentence(answer.track_record),
    groupSentences(answer.group_record, answer.fields),
    readFieldsLine(answer, model, fields),
    articleLine(answer),
    el('h3', {}, t('reasons.heading')),
    markedText(text, answer.reasons, answer.label),
    reasonList(answer.reasons, answer.label),
    factorList(answer.reasons, model),
    whatIf(answer, model, text, fields),
    feedbackForm(answer.record_id),
    el('p', { class: 'muted small' }, t('result.model', { name: answer.model.name, version: answer.model.version })),
    el('p', { class: 'disclaimer' }, t('disclaimer')),
    el('section', { id: 'precedents', 'aria-live': 'polite' }));
}

function whatIf(answer, model, text, fields) {
  const names = (model?.inputs ?? []).filter((name) => name !== 'text');
  if (!names.length) return null;
  const output = el('p', { id: 'whatif-output', role: 'status', 'aria-live': 'polite' });
  const fieldSelect = el('select', { id: 'whatif-field' }, names.map((name) => el('option', { value: name }, fieldName(name))));
  let valueInput = fieldInput(model, names[0], 'whatif-value');
  const holder = el('span', {}, valueInput);
  fieldSelect.addEventListener('change', () => {
    valueInput = fieldInput(model, fieldSelect.value, 'whatif-value');
    holder.replaceChildren(valueInput);
  });
  const before = answer.probability;
  const form = el('form', { id: 'whatif-form', class: 'whatif' },
    el('label', { for: 'whatif-field' }, t('whatif.field')), fieldSelect,
    el('label', { for: 'whatif-value' }, t('whatif.value')), holder,
    el('button', { type: 'submit' }, t('whatif.run')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const raw = valueInput.value.trim();
    const changed = { ...fields };
    if (raw) changed[fieldSelect.value] = valueInput.type === 'number' ? Number(raw) : raw;
    else delete changed[fieldSelect.value];
    busy(output, t('claimant.working'));
    try {
      const other = await api('/v1/predict', { method: 'POST', body: { dataset: answer.dataset, text, fields: changed, explain: false } });
      const after = other.probabilities.find((p) => p.label === answer.label)?.probability ?? 0;
      const delta = (after - before) * 100;
      output.replaceChildren(t('whatif.moved', {
        label: outcome(answer.label), before: percent.format(before), after: percent.format(after),
        delta: `${delta >= 0 ? '+' : '−'}${points.format(Math.abs(delta))}`,
      }));
    } catch (error) {
      showError(output, error);
    }
  });
  return el('section', { class: 'box' }, el('h3', {}, t('whatif.heading')), el('p', { class: 'muted' }, t('whatif.hint')), form, output);
}

function feedbackForm(recordId) {
  const output = el('p', { role: 'status', 'aria-live': 'polite' });
  const form = el('form', { class: 'feedback' },
    el('fieldset', {}, el('legend', {}, t('feedback.heading')),
      el('label', { class: 'inline' }, el('input', { type: 'radio', name: 'verdict', value: 'agree', checked: true }), ' ', t('feedback.agree')),
      el('label', { class: 'inline' }, el('input', { type: 'radio', name: 'verdict', value: 'disagree' }), ' ', t('feedback.disagree')),
      el('label', { for: `comment-${recordId}` }, t('feedback.comment')),
      el('textarea', { id: `comment-${recordId}`, name: 'comment', rows: 2, maxlength: 2000 }),
      el('button', { type: 'submit' }, t('feedback.send'))), output);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await api(`/v1/predictions/${encodeURIComponent(recordId)}/feedback`, {
        method: 'POST', body: { verdict: data.get('verdict'), comment: data.get('comment') ?? '' },
      });
      output.replaceChildren(t('feedback.stored'));
    } catch (error) {
      if (error.status === 401 || error.status === 403) output.replaceChildren(t('feedback.needs_judge'));
      else showError(output, error);
    }
  });
  return form;
}

async function showPrecedents(dataset, text) {
  const target = $('precedents');
  target.replaceChildren(el('h3', {}, t('precedents.heading')));
  try {
    const found = await api('/v1/precedents/search', { method: 'POST', body: { dataset, text, k: 5 } });
    target.append(found.results.length ? resultList(found.results, false) : el('p', {}, t('precedents.none')));
  } catch (error) {
    target.append(el('p', { class: 'error' }, error.message));
  }
}

// -- judge: search with filters, full case, more like this ----------------------------------

const rangeText = ([first, last]) => (first === last ? String(first) : `${first}–${last}`);

function passageWithHits(text, hits) {
  // The words the keyword search matched (the server reads them with its own stop words
  // and stems) are marked as word matches.
  if (!hits?.length) return [text];
  const words = new Set(hits);
  return text.split(/([\p{L}\p{N}_]+)/u).map((part) => (words.has(part) ? el('mark', { class: 'keyword' }, part) : part));
}

function resultList(results, detailed, mode = 'hybrid') {
  const best = Math.max(...results.map((r) => r.score), 1e-9);
  return el('ol', { class: 'results' }, results.map((r, i) => el('li', { class: 'case' },
    el('h4', {}, `${t('judge.rank', { rank: i + 1 })} · ${r.title}`),
    el('p', { class: 'muted' }, [r.case_id, r.year, r.court].filter(Boolean).join(' · '), ' · ',
      el('strong', {}, outcome(r.outcome)), ' · ', t('judge.match', { pct: percent.format(r.score / best) })),
    r.examined_articles.length ? el('p', { class: 'small' }, t('judge.ruled_on', { articles: r.examined_articles.join(', ') }),
      r.violated_articles.length ? ` (${t('judge.violated', { articles: r.violated_articles.join(', ') })})` : '') : null,
    detailed ? r.passages.map((p) => el('div', { class: 'pair' }, el('blockquote', {},
      el('span', { class: 'small muted' }, t('judge.passage', { range: p.paragraphs[0] === p.paragraphs[1] ? p.paragraphs[0] : `${p.paragraphs[0]}–${p.paragraphs[1]}` }), ' · ',
        mode !== 'semantic' && p.keyword_hits?.length ? el('span', { class: 'tag keyword' }, t('judge.keyword_hit')) : null, ' ',
        mode !== 'keyword' ? el('span', { class: 'tag semantic' }, t('judge.semantic_hit')) : null),
      el('p', {}, passageWithHits(p.text, p.keyword_hits))),
      p.query_passage ? el('blockquote', { class: 'query-side' },
        el('span', { class: 'small muted' }, `${t('judge.query_passage')} · ${t('judge.passage', { range: rangeText(p.query_passage.paragraphs) })}`),
        el('p', {}, passageWithHits(p.query_passage.text, p.keyword_hits))) : null)) : null,
    el('p', { class: 'actions' },
      el('button', { type: 'button', onclick: () => openCase(r.case_id) }, t('judge.open')),
      el('button', { type: 'button', onclick: () => moreLike(r.case_id) }, t('judge.more'))))));
}

$('search-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const dataset = $('search-dataset').value;
  const text = $('query').value.trim();
  const caseId = $('case-id').value.trim();
  const mode = document.querySelector('input[name="mode"]:checked').value;
  const filters = {};
  if ($('year-min').value) filters.year_min = Number($('year-min').value);
  if ($('year-max').value) filters.year_max = Number($('year-max').value);
  if ($('respondent-filter').value.trim()) filters.respondent = $('respondent-filter').value.trim().toUpperCase();
  if ($('court-filter').value.trim()) filters.court = $('court-filter').value.trim();
  if ($('outcome-filter').value) filters.outcome = $('outcome-filter').value;
  const articles = $('articles-filter').value.split(',').map((a) => a.trim()).filter(Boolean);
  if (articles.length) filters.articles = articles;
  const body = { dataset, k: 10, mode, filters, ...(caseId && !text ? { case_id: caseId } : { text }) };
  const status = $('search-status');
  busy(status, t('judge.searching'));
  try {
    const found = await api('/v1/precedents/search', { method: 'POST', body });
    status.replaceChildren();
    $('search-results').replaceChildren(found.results.length ? resultList(found.results, true, mode) : el('p', {}, t('precedents.none')));
  } catch (error) {
    showError(status, error);
  }
});

async function openCase(caseId) {
  select($('tab-judge'));
  const target = $('case-view');
  busy(target, '…');
  try {
    const found = await api(`/v1/cases/${encodeURIComponent(caseId)}`);
    const close = el('button', { type: 'button', onclick: () => target.replaceChildren() }, t('case.close'));
    target.replaceChildren(el('article', { class: 'full-case', 'aria-labelledby': 'case-title' },
      el('h2', { id: 'case-title', tabindex: '-1' }, `${t('case.heading', { id: found.case_id })}: ${found.title}`),
      el('p', {}, [found.year, found.court].filter(Boolean).join(' · '), ' · ', el('strong', {}, outcome(found.outcome))),
      found.examined_articles.length ? el('p', {}, t('judge.ruled_on', { articles: found.examined_articles.join(', ') })) : null,
      el('p', { class: 'muted small' }, t('case.paragraphs', { n: integer.format(found.paragraphs.length) })),
      el('ol', { class: 'paragraphs' }, found.paragraphs.map((p) => el('li', {}, p))),
      el('p', { class: 'actions' }, el('button', { type: 'button', onclick: () => moreLike(found.case_id) }, t('judge.more')), close)));
    $('case-title').focus();
  } catch (error) {
    showError(target, error);
  }
}

async function moreLike(caseId) {
  select($('tab-judge'));
  const status = $('search-status');
  busy(status, t('judge.searching'));
  try {
    const found = await api(`/v1/cases/${encodeURIComponent(caseId)}/similar?k=10`);
    status.replaceChildren();
    $('search-results').replaceChildren(resultList(found, true));
    $('search-results').scrollIntoView();
  } catch (error) {
    showError(status, error);
  }
}

// -- data scientist: versions, card figures, groups, reliability ----------------------------

$('data-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const dataset = $('data-dataset').value;
  const target = $('data-result');
  const status = $('data-status');
  busy(status, '…');
  try {
    const [model, health] = await Promise.all([api(`/v1/model?dataset=${encodeURIComponent(dataset)}`), api('/health')]);
    status.replaceChildren();
    const parts = [dataCard(model, health.datasets[dataset])];
    try {
      parts.push(versionTable(await api(`/v1/admin/versions?dataset=${encodeURIComponent(dataset)}`)));
    } catch (error) {
      parts.push(el('p', { class: 'muted' }, error.status === 401 || error.status === 403 ? t('data.needs_key') : error.message));
    }
    parts.push(groupTables(model));
    const image = el('img', { alt: t('data.reliability'), class: 'reliability' });
    parts.push(el('figure', {}, image, el('figcaption', {}, t('data.reliability'))));
    target.replaceChildren(...parts.filter(Boolean));
    api(`/v1/model/reliability.png?dataset=${encodeURIComponent(dataset)}`)
      .then((blob) => { image.src = URL.createObjectURL(blob); })
      .catch(() => image.closest('figure').remove());
  } catch (error) {
    showError(status, error);
  }
});

const aliasName = (alias) => (alias === 'champion' ? t('data.champion') : alias);
const figure = (value) => (value == null ? '—' : points.format(value * 100) + ' %');

function dataCard(model, health) {
  const scores = model.card?.scores ?? {};
  return el('div', {},
    el('p', {}, `${model.name} v${model.version} (${model.aliases.map(aliasName).join(', ')})`),
    el('p', {}, t('data.index', { version: health?.index?.version ?? '—' })),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t('data.macro_f1')), el('th', { scope: 'col' }, t('data.accuracy')),
      el('th', { scope: 'col' }, t('data.majority')), el('th', { scope: 'col' }, t('data.ece')), el('th', { scope: 'col' }, t('data.cases')))),
    el('tbody', {}, el('tr', {}, el('td', {}, figure(scores.macro_f1)), el('td', {}, figure(scores.accuracy)),
      el('td', {}, figure(scores.majority_accuracy)), el('td', {}, figure(scores.ece)), el('td', {}, integer.format(scores.n ?? 0))))));
}

function versionTable(versions) {
  return el('table', { class: 'versions' }, el('caption', {}, t('data.version')),
    el('thead', {}, el('tr', {}, [t('data.version'), t('data.registered'), t('data.aliases'), t('data.macro_f1'), t('data.accuracy'), t('data.ece')].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, versions.map((v) => el('tr', { class: v.aliases.includes('champion') ? 'champion' : null },
      el('td', {}, v.version), el('td', {}, v.registered_at ? day.format(new Date(v.registered_at)) : '—'),
      el('td', {}, v.aliases.map(aliasName).join(', ')),
      el('td', {}, figure(v.metrics.val_macro_f1)), el('td', {}, figure(v.metrics.val_accuracy)), el('td', {}, figure(v.metrics.val_ece))))));
}

function groupTables(model) {
  const card = model?.card;
  if (!card?.groups) return null;
  // A group formed from an input field is captioned and its values named as the form names them.
  const fieldOf = (kind) => Object.entries(card.group_fields ?? {}).find(([, g]) => g.group === kind)?.[0];
  return el('div', {}, el('h3', {}, t('data.groups')), Object.entries(card.groups).map(([kind, rows]) => {
    const name = fieldOf(kind);
    return el('table', { class: 'groups' }, el('caption', {}, name ? fieldName(name) : kind),
      el('thead', {}, el('tr', {}, [t('data.group'), t('data.cases'), t('data.accuracy'), t('data.majority'), t('data.ece')].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows.map((row) => el('tr', {}, el('td', {}, name ? namedValue(model, name, row.group) : row.group), el('td', {}, integer.format(row.n)),
        row.too_few ? el('td', { colspan: 3 }, t('data.too_few'))
          : [el('td', {}, figure(row.accuracy)), el('td', {}, figure(row.majority_accuracy)), el('td', {}, figure(row.ece))]))));
  }));
}

loadModel($('dataset').value);
showFilters($('search-dataset').value);
$('search-dataset').addEventListener('change', () => showFilters($('search-dataset').value));
