import {
  type ArgumentMetadata,
  type PipeTransform,
  ValidationPipe,
  type ValidationPipeOptions,
} from '@nestjs/common';
import type { ValidationIssue } from '../../errors/mas-error';
import { toValidationError } from './to-issues';

/**
 * §2.2: unknown keys are dropped (never reach config.json), nothing is coerced (`"true"` is not a
 * boolean), a value no DTO describes is refused.
 */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: false,
  transform: true,
  transformOptions: { enableImplicitConversion: false },
  forbidUnknownValues: true,
  validationError: { target: false, value: true },
};

const LOCATIONS: ReadonlyArray<[ArgumentMetadata['type'], ValidationIssue['location']]> = [
  ['body', 'body'],
  ['query', 'query'],
  ['param', 'path'],
  ['custom', 'header'],
];

/**
 * The global pipe: Nest's ValidationPipe, one per argument location, because the issue's
 * `location` comes from where the value was read and ValidationPipe's factory only sees errors.
 */
export class RequestValidationPipe implements PipeTransform {
  private readonly pipes = new Map(
    LOCATIONS.map(([type, location]) => [
      type,
      new ValidationPipe({
        ...VALIDATION_OPTIONS,
        exceptionFactory: (errors) => toValidationError(errors, location),
      }),
    ]),
  );

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    return this.pipes.get(metadata.type)!.transform(value, metadata);
  }
}
