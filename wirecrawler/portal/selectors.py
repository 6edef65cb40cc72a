"""Every CSS selector the project uses on the portal's pages, in one place.

A layout change on the site is a change to this file alone (see the sample site, sample_site/).
"""

# Section listing (/nieuws/buitenland?page=N); the more-news list of an article shares the row markup.
LISTING_ROWS = "main > ul.news-list > li.news-list__item"
# The more-news ("Meer uit") part of an article page: much the same on page after page.
MORE_NEWS = "section.more-news"
MORE_NEWS_ROW = "ul.news-list > li.news-list__item"  # a row inside MORE_NEWS
MORE_NEWS_ROWS = f"{MORE_NEWS} {MORE_NEWS_ROW}"
MORE_NEWS_TITLE = f"{MORE_NEWS} .more-news__title::text"
ROW_LINK = "a.news-list__link"
ROW_HREF = "a.news-list__link::attr(href)"
ROW_HEADLINE = "a.news-list__link::attr(title)"
ROW_TEXT = "p.news-list__text ::text"
ROW_TIME = "span.news-list__time ::text"
NEXT_PAGE = "nav.pager a.pager__next[rel=next]::attr(href)"
# A page whose content a script builds in the browser ships it as an inline JSON blob.
BROWSER_RENDERING_DATA = 'script[type="application/json"]'

# Net binnen: the newest stories of all sections, on every page.
NET_BINNEN = "section.net-binnen"
NET_BINNEN_ROW = "li > a"  # a row inside NET_BINNEN
NET_BINNEN_ROWS = f"{NET_BINNEN} {NET_BINNEN_ROW}"
NET_BINNEN_SECTION = "span.net-binnen__cat ::text"
NET_BINNEN_TIME = "span.net-binnen__time ::text"
NET_BINNEN_TITLE = "span.net-binnen__title ::text"

# Article page.
ARTICLE = "article.article"
ARTICLE_HEADLINE = "h1.article__title ::text"
ARTICLE_PARAGRAPHS = "div.article__body > p:not(.article__related)"
BREADCRUMB_LINKS = "nav.breadcrumb a ::text"

# Text nodes of a paragraph, without scripts and styles that may be injected into it.
# Line breaks are matched too: a <br> separates words the way a space does.
PARAGRAPH_TEXT_XPATH = ".//text()[not(ancestor::script) and not(ancestor::style)] | .//br"
