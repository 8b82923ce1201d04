// Client-side routing on the history API: each view has its own URL under /console/, which the
// server answers with the app's page, so a link can be shared or reloaded.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export { CONSOLE_ROOT, paths, routeOf, type ConsoleRoute } from './routes';

const NAVIGATED = 'cascade:navigated';

/** Shows `url` without a reload; `replace` keeps the history entry (a filter changed). */
export function navigate(url: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(NAVIGATED));
}

export interface ConsoleLocation {
  pathname: string;
  query: URLSearchParams;
}

/** The location, kept current through links, back and forward. */
export function useConsoleLocation(): ConsoleLocation {
  const read = () => ({ pathname: location.pathname, query: new URLSearchParams(location.search) });
  const [current, setCurrent] = useState(read);
  useEffect(() => {
    const update = () => setCurrent(read());
    window.addEventListener('popstate', update);
    window.addEventListener(NAVIGATED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(NAVIGATED, update);
    };
  }, []);
  return current;
}

interface LinkProps {
  href: string;
  children?: ComponentChildren;
  class?: string;
  title?: string;
  'aria-current'?: 'page';
}

/** An `<a>` that navigates within the console without a reload (a modified click opens a tab as usual). */
export function Link({ href, children, ...rest }: LinkProps) {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  };
  return (
    <a {...rest} href={href} onClick={onClick}>
      {children}
    </a>
  );
}
