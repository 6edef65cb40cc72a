"""What the portal shows, read into plain data. Pure: no module here imports Scrapy.

- ``selectors``: every CSS selector used on the portal's pages (a layout change is a one-file fix);
- ``decoding``: a response's bytes as text, the way the portal writes it;
- ``text``: clean text, the one place text is cleaned: everything past the readers holds it;
- ``urls``: links resolved against their page, the site a URL is on, which links are stories;
- ``boundary``: where a crawl may go (its start URL's site, no non-public address it does not name);
- ``pages``: listing and article pages as page objects; ``flattext``: flattened page text as one;
- ``wire``: the ANP wire grammar: slugs, story ids, datelines;
- ``timeline``: Dutch time labels, Net binnen clock times and HTTP dates as instants.
"""
