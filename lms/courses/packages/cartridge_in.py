"""IMS Common Cartridge 1.1 to 1.3 in: the organisation tree becomes modules in order, web
content pages lessons (HTML to Markdown, files in the cartridge to ``media/<filename>``),
web links links in the lesson, QTI 1.2 assessments the module's quiz. Everything else is
listed in the report with its identifier and title."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element  # noqa: S405 - the type only

from lms.courses.packages import PackageError, html_to_markdown, qti
from lms.courses.packages.archive import SafeZip, ZipLimits, local, parse_xml
from lms.courses.packages.read_course import media_store_available
from lms.courses.packages.report import ImportReport, Skipped

MANIFEST = "imsmanifest.xml"
ASSESSMENT = "imsqti_xmlv1p2/imscc_xmlv1p1/assessment"
WEBLINK = re.compile(r"^imswl_xmlv1p\d$")
VERSIONS = {"1.0.0": "1.0", "1.1.0": "1.1", "1.2.0": "1.2", "1.3.0": "1.3"}
NAMESPACES = ("imsccv1p1", "imsccv1p2", "imsccv1p3")
FILEBASE = "$IMS-CC-FILEBASE$"
KIND_NAMES = {
    "imsdt_xmlv1p1": "discussion topic",
    "imsdt_xmlv1p2": "discussion topic",
    "imsdt_xmlv1p3": "discussion topic",
    "imsbasiclti_xmlv1p0": "LTI link",
    "imsbasiclti_xmlv1p3": "LTI link",
    "imsqti_xmlv1p2/imscc_xmlv1p1/question-bank": "question bank",
    "associatedcontent/imscc_xmlv1p1/learning-application-resource": "tool-specific content",
}


def _kids(element: Element, name: str) -> list[Element]:
    return [child for child in element if local(child.tag) == name]


def _kid(element: Element, name: str) -> Element | None:
    found = _kids(element, name)
    return found[0] if found else None


def _text(element: Element | None) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


@dataclass
class _Resource:
    identifier: str
    kind: str
    href: str
    files: list[str]
    base: str = ""


@dataclass
class _Module:
    title: str
    parts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    questions: list[dict] = field(default_factory=list)
    quiz_title: str = ""
    max_attempts: int | None = None
    time_limit_minutes: int | None = None
    assessments: list[str] = field(default_factory=list)  # the titles of its assessments
    own_title: bool = False  # the first part starts with the lesson's "# Title"


class _Reader:
    def __init__(self, data: bytes, filename: str, limits: ZipLimits | None) -> None:
        self.zip = SafeZip(data, filename, limits)
        self.filename = filename
        self.skipped: list[Skipped] = []
        self.media: dict[str, bytes] = {}
        self.media_paths: dict[str, str] = {}  # path in the cartridge -> media filename
        self.store = media_store_available()
        self.dependencies: dict[str, list[str]] = {}
        self.reasons: set[str] = set()

    def read(self) -> ImportReport:
        if not self.zip.has(MANIFEST):
            raise PackageError(self.filename, f"no {MANIFEST}: this is not a Common Cartridge")
        root = parse_xml(self.zip.read(MANIFEST), MANIFEST)
        if local(root.tag) != "manifest":
            raise PackageError(MANIFEST, "the root element is not <manifest>")
        version = self._version(root)
        ours = re.fullmatch(r"I_M_([A-Za-z0-9-]{1,20})", root.get("identifier", ""))
        self.code = ours.group(1) if ours else ""  # a cartridge this app wrote keeps its code
        self.resources = self._resources(root)
        title = self._title(root) or self.filename.rsplit(".", 1)[0]
        organizations = _kid(root, "organizations")
        organization = _kid(organizations, "organization") if organizations is not None else None
        modules: list[_Module] = []
        used: set[str] = set()
        if organization is not None:
            tops = _kids(organization, "item")
            if len(tops) == 1 and not tops[0].get("identifierref"):
                tops = _kids(tops[0], "item")  # the root item ("LearningModules", "root")
            for item in tops:
                module = _Module(_text(_kid(item, "title")) or "Untitled")
                leaves = [item] if item.get("identifierref") else list(_leaves(item))
                for leaf in leaves:
                    self._take(leaf, module, used)
                modules.append(module)
        used |= {dep for ident in list(used) for dep in self.dependencies.get(ident, [])}
        for resource in self.resources.values():
            if resource.identifier not in used and resource.kind != "webcontent":
                self._skip(resource.identifier, "", resource, "not in the course's organisation")
        if not modules:
            raise PackageError(f"{MANIFEST}: organizations", "the cartridge has no modules")
        return ImportReport(
            source=f"Common Cartridge {version}",
            data=self._data(title, modules),
            skipped=self.skipped,
            media=self.media,
            notes=[
                f"{module.title}: its {len(module.assessments)} assessments "
                f"({'; '.join(module.assessments)}) become one quiz of {len(module.questions)} "
                "questions (a module holds one quiz); its title, attempts and time limit are "
                "the first assessment's that sets them."
                for module in modules
                if len(module.assessments) > 1
            ],
        )

    def _version(self, root: Element) -> str:
        metadata = _kid(root, "metadata")
        text = _text(_kid(metadata, "schemaversion")) if metadata is not None else ""
        namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
        if text in VERSIONS:
            return VERSIONS[text]
        for name in NAMESPACES:
            if name in namespace:
                return f"1.{name[-1]}"
        raise PackageError(f"{MANIFEST}: metadata/schemaversion", f"unknown version {text!r}")

    def _title(self, root: Element) -> str:
        metadata = _kid(root, "metadata")
        if metadata is None:
            return ""
        for node in metadata.iter():
            if local(node.tag) == "title":
                return _text(node)[:200]
        return ""

    def _resources(self, root: Element) -> dict[str, _Resource]:
        holder = _kid(root, "resources")
        found = {}
        for node in _kids(holder, "resource") if holder is not None else []:
            files = [f.get("href", "") for f in _kids(node, "file")]
            self.dependencies[node.get("identifier", "")] = [
                d.get("identifierref", "") for d in _kids(node, "dependency")
            ]
            ident = node.get("identifier", "")
            resource = _Resource(ident, node.get("type", ""), node.get("href", ""), files)
            resource.base = node.get("{http://www.w3.org/XML/1998/namespace}base", "")
            for name in [resource.href, *files] if resource.href else files:
                path = posixpath.normpath(posixpath.join(resource.base, unquote(name)))
                if not self.zip.has(path):
                    raise PackageError(
                        path, f"{MANIFEST}: resource {ident}: the file is named but not in the zip"
                    )
            found[ident] = resource
        return found

    def _skip(self, ident: str, title: str, resource: _Resource | None, why: str = "") -> None:
        kind = resource.kind if resource else "item"
        name = KIND_NAMES.get(kind, kind)
        self.skipped.append(Skipped(ident, title, why or f"a {name} is not imported"))

    def _take(self, leaf: Element, module: _Module, used: set[str]) -> None:
        title = _text(_kid(leaf, "title"))
        ref = leaf.get("identifierref")
        resource = self.resources.get(ref or "")
        if resource is None:
            if ref:
                raise PackageError(
                    f"{MANIFEST}: item {leaf.get('identifier', '')}",
                    f"identifierref {ref!r} names no resource",
                )
            return  # a heading without content (Canvas "text headers")
        used.add(resource.identifier)
        main = self._main(resource)
        if resource.kind == "webcontent":
            if main.lower().endswith((".html", ".htm")):
                body = self.zip.read(main).decode("utf-8", "replace")
                if title == module.title and not module.parts:
                    # The module's own page: its headings keep their levels; its one h1, if
                    # it has one, is the lesson's title.
                    markdown = html_to_markdown.convert(body, self._rewriter(main), 1, 0)
                    if markdown.startswith("# "):
                        module.own_title = True
                    module.parts.append(markdown)
                    return
                markdown = html_to_markdown.convert(body, self._rewriter(main), 3, 1)
                module.parts.append(f"## {html_to_markdown.escape(title or 'Page')}\n\n{markdown}")
            else:
                target = self._media(main)
                label = html_to_markdown.escape(title or posixpath.basename(main))
                if target:
                    module.links.append(f"- [{label}]({target})")
                elif self._no_store(main) not in self.reasons:
                    self.reasons.add(self._no_store(main))
                    self._skip(resource.identifier, title, resource, self._no_store(main))
        elif WEBLINK.match(resource.kind):
            link = parse_xml(self.zip.read(main), main)
            url_node = next((n for n in link.iter() if local(n.tag) == "url"), None)
            href = url_node.get("href", "") if url_node is not None else ""
            if urlsplit(href).scheme not in ("http", "https"):
                self._skip(
                    resource.identifier, title, resource, f"the link {href[:80]!r} is not http(s)"
                )
                return
            name = title or _text(next((n for n in link.iter() if local(n.tag) == "title"), None))
            module.links.append(
                f"- [{html_to_markdown.escape(name or href)}]({href.replace(')', '%29')})"
            )
        elif resource.kind == ASSESSMENT:
            assessment = qti.read_assessment(parse_xml(self.zip.read(main), main), main)
            module.questions += assessment.questions
            module.assessments.append(assessment.title or resource.identifier)
            module.quiz_title = module.quiz_title or assessment.title
            module.max_attempts = module.max_attempts or assessment.max_attempts
            module.time_limit_minutes = module.time_limit_minutes or assessment.time_limit_minutes
            self.skipped += assessment.skipped
        else:
            self._skip(resource.identifier, title, resource)

    def _main(self, resource: _Resource) -> str:
        name = resource.href or (resource.files[0] if resource.files else "")
        if not name:
            raise PackageError(f"{MANIFEST}: resource {resource.identifier}", "names no file")
        return posixpath.normpath(posixpath.join(resource.base, unquote(name)))

    def _no_store(self, path: str) -> str:
        return f"the file {path} is not imported: this app has no media store yet"

    def _media(self, path: str) -> str | None:
        """``media/<filename>`` for a file of the cartridge (kept for the import), or None."""
        if not self.zip.has(path):
            return None
        if not self.store:
            return None
        if path not in self.media_paths:
            name = re.sub(r"[^A-Za-z0-9._-]+", "-", posixpath.basename(path)) or "file"
            stem, dot, ext = name.rpartition(".")
            candidate, number = name, 1
            while candidate in self.media:
                number += 1
                candidate = f"{stem}-{number}.{ext}" if dot else f"{name}-{number}"
            self.media[candidate] = self.zip.read(path)
            self.media_paths[path] = candidate
        return f"media/{self.media_paths[path]}"

    def _rewriter(self, page: str):
        folder = posixpath.dirname(page)

        def rewrite(url: str, kind: str) -> str | None:
            url = url.strip()
            if unquote(url).startswith(FILEBASE):
                url = unquote(url)
                path = posixpath.normpath(unquote(url[len(FILEBASE) :].lstrip("/")))
                path = path if self.zip.has(path) else posixpath.join("web_resources", path)
            else:
                parts = urlsplit(url)
                if parts.scheme in ("http", "https", "mailto"):
                    return url.replace(")", "%29") if kind == "link" else None
                if parts.scheme or url.startswith(("/", "#")) or not url:
                    return None  # javascript:, data:, a page of the old site: the text stays
                path = posixpath.normpath(posixpath.join(folder, unquote(parts.path)))
            target = self._media(path)
            reason = self._no_store(path)
            if target is None and self.zip.has(path) and reason not in self.reasons:
                self.reasons.add(reason)
                self.skipped.append(Skipped(path, posixpath.basename(path), reason))
            return target

        return rewrite

    def _data(self, title: str, modules: list[_Module]) -> dict:
        code = self.code or re.sub(r"[^A-Z0-9]+", "", title.upper())[:12] or "IMPORTED"
        out_modules = []
        for position, module in enumerate(modules, start=1):
            heading = [] if module.own_title else [f"# {html_to_markdown.escape(module.title)}"]
            body = [*heading, *module.parts]
            if module.links:
                body.append("## Links\n\n" + "\n".join(module.links))
            entry: dict = {
                "code": f"{code}-{position}",
                "title": module.title[:200],
                "estimated_minutes": 30,
                "lesson": "\n\n".join(body) + "\n",
                "questions": module.questions,
            }
            if module.quiz_title:
                entry["quiz_title"] = module.quiz_title[:200]
            if module.max_attempts:
                entry["max_attempts"] = module.max_attempts
            if module.time_limit_minutes:
                entry["time_limit_minutes"] = module.time_limit_minutes
            out_modules.append(entry)
        return {
            "code": code,
            "title": title,
            "topic_area": "Imported",
            "description": f"Imported from the Common Cartridge {self.filename}.",
            "modules": out_modules,
        }


def _leaves(item: Element):
    for child in _kids(item, "item"):
        if child.get("identifierref"):
            yield child
        yield from _leaves(child)


def read_cartridge(data: bytes, filename: str, limits: ZipLimits | None = None) -> ImportReport:
    """The content data of a Common Cartridge and what it leaves out; raises PackageError."""
    return _Reader(data, filename, limits).read()
