import type { ValidationIssue } from '../errors/mas-error';

type Query = Record<string, unknown>;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Keys no route may receive, whatever it reads (§2.2): prototype names (`?__proto__[x]=1`), and
 * bracket or object syntax (`?status[]=x`). Every offending key is reported.
 */
export function queryKeyIssues(q: Query): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const k of Object.keys(q)) {
    const base = k.split('[', 1)[0];
    if (FORBIDDEN.has(base))
      issues.push({
        location: 'query',
        field: base,
        rule: 'forbidden_key',
        message: `key ${base} is not allowed`,
      });
    else if (/[[\]]/.test(k))
      issues.push({
        location: 'query',
        field: base,
        rule: 'type',
        message: 'bracket or object syntax is not accepted',
      });
  }
  return issues;
}
