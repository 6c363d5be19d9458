import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { Header } from '@/components/header';
import { Providers } from './providers';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'runbox', template: '%s · runbox' },
  description: 'A self-hosted sandbox for untrusted code, with live output.',
};

export const viewport: Viewport = {
  colorScheme: 'light dark',
};

/** Sets the theme before the first paint, from the saved choice or the system's. */
const themeScript = `try{var t=localStorage.getItem('runbox-theme');if(t==='light'||t==='dark')document.documentElement.dataset.theme=t}catch(e){}`;

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <Providers>
          <Header />
          <main id="main" className="main">
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
