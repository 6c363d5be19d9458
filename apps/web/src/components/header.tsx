'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useSocketStatusStore } from '@/app/providers';

type Theme = 'light' | 'dark' | 'system';

function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>('system');
  useEffect(() => {
    const saved = localStorage.getItem('runbox-theme');
    if (saved === 'light' || saved === 'dark') setTheme(saved);
  }, []);
  const choose = (next: Theme) => {
    setTheme(next);
    if (next === 'system') {
      localStorage.removeItem('runbox-theme');
      delete document.documentElement.dataset.theme;
    } else {
      localStorage.setItem('runbox-theme', next);
      document.documentElement.dataset.theme = next;
    }
  };
  return (
    <label className="theme-toggle">
      <span className="visually-hidden">Theme</span>
      <select value={theme} onChange={(e) => choose(e.target.value as Theme)} aria-label="Theme">
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}

export function ConnectionIndicator() {
  const store = useSocketStatusStore();
  const state = useSyncExternalStore(
    store?.subscribe ?? (() => () => {}),
    store?.get ?? (() => 'connecting' as const),
    () => 'connecting' as const,
  );
  if (state !== 'reconnecting') return null;
  return (
    <span className="reconnecting" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> reconnecting…
    </span>
  );
}

const LINKS = [
  { href: '/', label: 'New run' },
  { href: '/sessions', label: 'Sessions' },
  { href: '/runs', label: 'History' },
  { href: '/admin', label: 'Admin' },
];

export function Header() {
  const pathname = usePathname();
  return (
    <header className="site-header">
      <div className="site-header-inner">
        <Link href="/" className="brand" aria-label="runbox home">
          <span className="brand-mark" aria-hidden="true">
            ▣
          </span>{' '}
          runbox
        </Link>
        <nav aria-label="Main">
          <ul className="nav-list">
            {LINKS.map((link) => {
              const active =
                link.href === '/'
                  ? pathname === '/'
                  : pathname.startsWith(link.href) && !(link.href === '/runs' && false);
              return (
                <li key={link.href}>
                  <Link
                    href={link.href}
                    className="nav-link"
                    aria-current={active ? 'page' : undefined}
                  >
                    {link.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div className="header-tools">
          <ConnectionIndicator />
          <ThemeToggle />
        </div>
      </div>
    </header>
  );
}
