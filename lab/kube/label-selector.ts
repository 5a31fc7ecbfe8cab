// Kubernetes label selector strings (`app=web,tier!=db,env in (a,b),!legacy,track`), parsed once and
// matched against metadata.labels. Grammar as in k8s.io/apimachinery/pkg/labels.
import { BadRequestError } from './errors.js';

export type LabelRequirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | '!exists' };

export type LabelSelector = readonly LabelRequirement[];

/** Parses a selector string; an empty string selects everything. Throws BadRequestError on bad syntax. */
export function parseLabelSelector(selector: string): LabelSelector {
  const requirements: LabelRequirement[] = [];
  for (const term of splitTerms(selector)) {
    requirements.push(parseTerm(term));
  }
  return requirements;
}

export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const actual = labels ?? {};
  return selector.every((req) => matchesRequirement(req, actual));
}

function matchesRequirement(req: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, req.key);
  switch (req.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case 'in':
      return has && req.values.includes(labels[req.key]);
    case 'notin':
      return !has || !req.values.includes(labels[req.key]);
  }
}

/** Builds the equality selector a workload's `spec.selector.matchLabels` stands for. */
export function selectorFromMatchLabels(matchLabels: Readonly<Record<string, string>>): LabelSelector {
  return Object.entries(matchLabels).map(([key, value]) => ({ key, op: 'in', values: [value] }));
}

// Commas separate terms, except inside the parentheses of a set-based term.
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

const keyPattern = /^([a-z0-9A-Z.\-_/]+)$/;

function parseTerm(term: string): LabelRequirement {
  const setMatch = /^([^\s!=(]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term);
  if (setMatch) {
    const values = setMatch[3]
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return { key: checkKey(setMatch[1], term), op: setMatch[2] as 'in' | 'notin', values };
  }
  const equality = /^([^\s!=]+)\s*(==|!=|=)\s*([^\s,]*)$/.exec(term);
  if (equality) {
    const op = equality[2] === '!=' ? 'notin' : 'in';
    return { key: checkKey(equality[1], term), op, values: [equality[3]] };
  }
  if (term.startsWith('!')) {
    return { key: checkKey(term.slice(1).trim(), term), op: '!exists' };
  }
  return { key: checkKey(term, term), op: 'exists' };
}

function checkKey(key: string, term: string): string {
  if (!keyPattern.test(key)) {
    throw new BadRequestError(
      `unable to parse requirement "${term}" of the label selector; use key=value, key!=value, key in (a,b), key notin (a,b), key or !key`,
    );
  }
  return key;
}
