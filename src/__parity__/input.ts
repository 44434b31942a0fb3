import { ValidationError, type ValidationIssue } from '../errors/mas-error';

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

/**
 * One query parameter (contract §2.2): at most once, no bracket or object syntax, an empty value
 * counts as absent. Problems are pushed to `issues`, so every problem is reported, not the first.
 */
export function queryValue(q: Query, name: string, issues: ValidationIssue[]): string | undefined {
  for (const k of Object.keys(q)) {
    if (k !== name && k.startsWith(`${name}[`)) {
      issues.push({
        location: 'query',
        field: name,
        rule: 'type',
        message: 'bracket or object syntax is not accepted',
      });
      return undefined;
    }
  }
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (Array.isArray(v)) {
    issues.push({
      location: 'query',
      field: name,
      rule: 'duplicate_param',
      message: 'must be given at most once',
    });
    return undefined;
  }
  if (typeof v !== 'string') {
    issues.push({ location: 'query', field: name, rule: 'type', message: 'must be a plain value' });
    return undefined;
  }
  return v;
}

/** Integers are `^[0-9]{1,9}$`: no sign, exponent, decimal point or trailing text. */
export function queryInt(
  q: Query,
  name: string,
  min: number,
  max: number,
  def: number,
  issues: ValidationIssue[],
): number {
  const v = queryValue(q, name, issues);
  if (v === undefined) return def;
  if (!/^[0-9]{1,9}$/.test(v) || Number(v) < min || Number(v) > max) {
    issues.push({
      location: 'query',
      field: name,
      rule: 'range',
      message: `must be an integer from ${min} to ${max}`,
      ...(v.length <= 64 ? { received: v } : {}),
    });
    return def;
  }
  return Number(v);
}

export function queryEnum<T extends string>(
  q: Query,
  name: string,
  allowed: readonly T[],
  def: T,
  issues: ValidationIssue[],
): T {
  const v = queryValue(q, name, issues);
  if (v === undefined) return def;
  if (!(allowed as readonly string[]).includes(v)) {
    issues.push({
      location: 'query',
      field: name,
      rule: 'enum',
      message: `must be one of ${allowed.join(', ')}`,
      ...(v.length <= 64 ? { received: v } : {}),
    });
    return def;
  }
  return v as T;
}

/** Body booleans are typed strictly: `"true"` is a 400 (§2.2). */
export function bodyBool(
  body: Record<string, unknown>,
  name: string,
  def: boolean,
  issues: ValidationIssue[],
  prefix = '',
): boolean {
  const v = body[name];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') {
    issues.push({
      location: 'body',
      field: prefix + name,
      rule: 'type',
      message: 'must be a boolean',
    });
    return def;
  }
  return v;
}

export function throwIfIssues(issues: ValidationIssue[]): void {
  if (issues.length) throw new ValidationError(issues);
}
