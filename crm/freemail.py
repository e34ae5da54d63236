"""Consumer mail providers, whose domains never identify a company.

A reach entry of "jane@gmail.com" names a person, not an account, so reach lists
reject these domains. Domains are compared in the form `crm.domains.normalize_domain`
returns: lower case, registrable, punycode.
"""

from __future__ import annotations

from crm.domains import registrable_label

# Providers whose mail domain is one name under many country suffixes, such as
# yahoo.co.uk or gmx.at: any registrable domain with this second-level label is
# personal.
PERSONAL_BRANDS = frozenset(
    {
        "gmx",
        "hotmail",
        "yahoo",
        "yandex",
        "ymail",
        "rocketmail",
        "laposte",
        "rediffmail",
        "libero",
    }
)

# Single mail domains of consumer providers, by region.
PERSONAL_DOMAINS = frozenset(
    {
        # Google, Microsoft, Apple, AOL
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.de",
        "outlook.fr",
        "outlook.es",
        "outlook.it",
        "outlook.jp",
        "live.com",
        "live.co.uk",
        "live.de",
        "live.fr",
        "live.nl",
        "msn.com",
        "passport.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "aol.co.uk",
        "aol.de",
        "aim.com",
        # Privacy-focused providers
        "proton.me",
        "protonmail.com",
        "protonmail.ch",
        "pm.me",
        "tutanota.com",
        "tutanota.de",
        "tuta.io",
        "tutamail.com",
        "fastmail.com",
        "fastmail.fm",
        "hey.com",
        "mailfence.com",
        "posteo.de",
        "posteo.net",
        "mailbox.org",
        "runbox.com",
        "disroot.org",
        # General providers
        "zoho.com",
        "zohomail.com",
        "mail.com",
        "email.com",
        "usa.com",
        "inbox.com",
        "hushmail.com",
        "lycos.com",
        "juno.com",
        "netzero.net",
        "earthlink.net",
        "comcast.net",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
        "cox.net",
        "charter.net",
        "optonline.net",
        # Europe
        "web.de",
        "t-online.de",
        "freenet.de",
        "arcor.de",
        "online.de",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "neuf.fr",
        "alice.it",
        "tiscali.it",
        "virgilio.it",
        "tin.it",
        "btinternet.com",
        "sky.com",
        "talktalk.net",
        "virginmedia.com",
        "ntlworld.com",
        "blueyonder.co.uk",
        "ziggo.nl",
        "kpnmail.nl",
        "telenet.be",
        "skynet.be",
        "bluewin.ch",
        "seznam.cz",
        "centrum.cz",
        "wp.pl",
        "o2.pl",
        "onet.pl",
        "interia.pl",
        "abv.bg",
        "mail.ee",
        "inbox.lv",
        "telia.com",
        # Russia and neighbours
        "mail.ru",
        "inbox.ru",
        "list.ru",
        "bk.ru",
        "rambler.ru",
        "ya.ru",
        "ukr.net",
        # Asia and elsewhere
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "naver.com",
        "daum.net",
        "hanmail.net",
        "nate.com",
        "nifty.com",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "softbank.ne.jp",
        "bigpond.com",
        "optusnet.com.au",
        "xtra.co.nz",
        "uol.com.br",
        "bol.com.br",
        "terra.com.br",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
    }
)


def is_personal_domain(domain: str) -> bool:
    """Return True when `domain` (registrable, lower case) belongs to a consumer mail provider.

    NOTE: the brand rule also marks the providers' corporate sites (yahoo.com,
    yandex.ru) as personal, so they cannot be reach entries.
    """
    domain = domain.strip().lower().rstrip(".")
    if domain in PERSONAL_DOMAINS:
        return True
    return "." in domain and registrable_label(domain) in PERSONAL_BRANDS
