/**
 * A body already serialised to JSON, typed by what it encodes: GET /sessions answers with text
 * it built once per snapshot (docs/PERFORMANCE.md), and the handler still declares its DTO.
 */
export type JsonText<T> = string & { readonly __encodes?: T };
