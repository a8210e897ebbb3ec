// The console's pages live in the URL's hash (#/products/…), so the function app serves one page for all of them
// and the browser's back button, bookmarks and reloads work.
import { useEffect, useState } from 'react';

export type Route =
  | { readonly page: 'products' }
  | { readonly page: 'product'; readonly skuId: string }
  | { readonly page: 'groups' }
  | { readonly page: 'group'; readonly id: string }
  | { readonly page: 'users' }
  | { readonly page: 'user'; readonly id: string }
  | { readonly page: 'devices' }
  | { readonly page: 'device'; readonly id: string }
  | { readonly page: 'errors' }
  | { readonly page: 'audit' }
  | { readonly page: 'alerts' };

const WITH_ID = { product: 'skuId', group: 'id', user: 'id', device: 'id' } as const;

export function parseRoute(hash: string): Route {
  const [page = '', id] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (page) {
    case 'products':
      return id ? { page: 'product', skuId: id } : { page: 'products' };
    case 'groups':
      return id ? { page: 'group', id } : { page: 'groups' };
    case 'users':
      return id ? { page: 'user', id } : { page: 'users' };
    case 'devices':
      return id ? { page: 'device', id } : { page: 'devices' };
    case 'errors':
      return { page: 'errors' };
    case 'audit':
      return { page: 'audit' };
    case 'alerts':
      return { page: 'alerts' };
    default:
      return { page: 'products' };
  }
}

/** The link to a route: `#/groups/{id}`. */
export function href(route: Route): string {
  if (route.page in WITH_ID) {
    const list = { product: 'products', group: 'groups', user: 'users', device: 'devices' }[
      route.page as keyof typeof WITH_ID
    ];
    const id =
      (route as unknown as Record<string, string>)[WITH_ID[route.page as keyof typeof WITH_ID]] ?? '';
    return `#/${list}/${encodeURIComponent(id)}`;
  }
  return `#/${route.page}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
