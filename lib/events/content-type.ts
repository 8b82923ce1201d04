import type { WebhookProvider } from './provider';

/** `Application/JSON; charset=utf-8` → `application/json`; undefined when the header is absent or blank. */
export function mediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return type ? type : undefined;
}

export function acceptsContentType(provider: WebhookProvider, contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type !== undefined && provider.contentTypes.includes(type);
}
