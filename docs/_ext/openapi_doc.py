"""A Sphinx directive that renders the engine's OpenAPI document as reference.

Usage::

    .. rpymostat-openapi:: rpymostat/api/openapi.json

reads the OpenAPI 3.1 document at the given path (relative to the repository
root) and renders, in document order, one section per operation ("METHOD
/path": summary, description, parameters, request body with its examples,
responses with their examples) and then a "Schemas" section with every
component schema.  The document is the one the engine serves at
``GET /v1/openapi.json``, so the reference cannot drift from the API.  Nodes
are built directly (no generated reST), so nothing needs escaping.
"""

import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

METHODS = ("get", "put", "post", "patch", "delete", "head", "options", "trace")
REF_PREFIX = "#/components/schemas/"
BACKTICKS = re.compile(r"`([^`]+)`")


def inline(text: str) -> list:
    """Text with `x` spans as literals -- all the Markdown descriptions use."""
    result = []
    for i, part in enumerate(BACKTICKS.split(text)):
        if i % 2:
            result.append(nodes.literal(part, part))
        elif part:
            result.append(nodes.Text(part))
    return result


def paragraphs(text: str) -> list:
    """A description as paragraphs, split on blank lines."""
    return [
        nodes.paragraph("", "", *inline(block.strip())) for block in re.split(r"\n\s*\n", text or "") if block.strip()
    ]


def json_block(value) -> nodes.literal_block:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return nodes.literal_block(text, text, language="json")


class OpenApiDirective(SphinxDirective):
    """``.. rpymostat-openapi:: path/to/openapi.json`` -- the API reference."""

    required_arguments = 1
    optional_arguments = 0
    has_content = False

    def run(self):
        path = Path(self.env.srcdir).parent / self.arguments[0].strip()
        try:
            self.spec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise self.error(f"rpymostat-openapi: cannot read {str(path)!r}: {e}") from e
        # Rebuild the page when the document changes.
        self.env.note_dependency(str(path))
        self.used_ids = set()
        schemas = self.spec.get("components", {}).get("schemas", {})
        self.schema_ids = {name: self.new_id("schema " + name) for name in schemas}

        info = self.spec.get("info", {})
        result = paragraphs(info.get("summary", "")) + paragraphs(info.get("description", ""))
        result.append(
            nodes.paragraph("", f"OpenAPI {self.spec.get('openapi', '?')}, API version {info.get('version', '?')}.")
        )
        for route, item in self.spec.get("paths", {}).items():
            for method, operation in item.items():
                if method in METHODS:
                    result.append(self.operation(method.upper(), route, item, operation))
        if schemas:
            section = self.section("Schemas", self.new_id("api schemas"))
            for name, schema in schemas.items():
                section += self.schema_section(name, schema)
            result.append(section)
        return result

    # -- helpers ---------------------------------------------------------

    def new_id(self, text: str) -> str:
        """A unique id for a section, from its text."""
        base = nodes.make_id(text) or "api"
        candidate, n = base, 1
        while candidate in self.used_ids or candidate in self.state.document.ids:
            n += 1
            candidate = f"{base}-{n}"
        self.used_ids.add(candidate)
        return candidate

    def section(self, title: str, section_id: str) -> nodes.section:
        section = nodes.section(ids=[section_id])
        section += nodes.title(title, title)
        return section

    def ref(self, ref: str) -> nodes.Node:
        """A ``$ref`` as a link to its schema's section where it has one."""
        name = ref[len(REF_PREFIX) :] if ref.startswith(REF_PREFIX) else ref
        if name in self.schema_ids:
            link = nodes.reference("", "", refid=self.schema_ids[name])
            link += nodes.literal(name, name)
            return link
        return nodes.literal(ref, ref)

    def type_nodes(self, schema) -> list:
        """A short description of a schema's type, e.g. "array of Sensor"."""
        if not isinstance(schema, dict):
            return [nodes.Text("any")]
        if "$ref" in schema:
            return [self.ref(schema["$ref"])]
        if "const" in schema:
            const = json.dumps(schema["const"])
            return [nodes.Text("constant "), nodes.literal(const, const)]
        if "enum" in schema:
            values = ", ".join(json.dumps(v) for v in schema["enum"])
            return [nodes.Text("one of "), nodes.literal(values, values)]
        types = schema.get("type") or []
        result = []
        for t in [types] if isinstance(types, str) else types:
            if result:
                result.append(nodes.Text(" or "))
            if t == "array" and "items" in schema:
                result += [nodes.Text("array of ")] + self.type_nodes(schema["items"])
            elif (
                t == "object" and isinstance(schema.get("additionalProperties"), dict) and not schema.get("properties")
            ):
                result += [nodes.Text("object of ")] + self.type_nodes(schema["additionalProperties"])
            else:
                result.append(nodes.Text(t + (f" ({schema['format']})" if "format" in schema else "")))
        return result or [nodes.Text("any")]

    def schema_paragraph(self, label: str, schema) -> list:
        """A schema as "label: Name" when it is a reference, else JSON."""
        para = nodes.paragraph("", "", nodes.strong(label, label), nodes.Text(": "))
        if isinstance(schema, dict) and set(schema) == {"$ref"}:
            para += self.ref(schema["$ref"])
            return [para]
        para += self.type_nodes(schema)
        if isinstance(schema, dict) and set(schema) <= {"type", "format"}:
            return [para]
        return [para, json_block(schema)]

    def examples(self, media) -> list:
        """A media type's examples: (title, value) pairs."""
        found = [
            (name + (f" -- {ex['summary']}" if ex.get("summary") else ""), ex["value"])
            for name, ex in media.get("examples", {}).items()
            if "value" in ex
        ]
        if "example" in media:
            found.insert(0, ("Example", media["example"]))
        return found

    def media_nodes(self, content, what: str) -> list:
        """The nodes for a request or response ``content`` map."""
        result = []
        for media_type, media in content.items():
            result.append(nodes.paragraph("", "", nodes.Text(f"{what} "), nodes.literal(media_type, media_type)))
            if "schema" in media:
                result += self.schema_paragraph("Schema", media["schema"])
            for title, value in self.examples(media):
                result.append(nodes.paragraph("", "", nodes.emphasis(title, title)))
                result.append(json_block(value))
        return result

    # -- operations and schemas ------------------------------------------

    def operation(self, method: str, route: str, item, operation) -> nodes.section:
        title = f"{method} {route}"
        section = self.section(title, self.new_id("api " + title))
        section += paragraphs(operation.get("summary", ""))
        section += paragraphs(operation.get("description", ""))

        params = {(p["name"], p["in"]): p for p in item.get("parameters", [])}
        params.update({(p["name"], p["in"]): p for p in operation.get("parameters", [])})
        if params:
            section += nodes.rubric("Parameters", "Parameters")
            plist = nodes.bullet_list()
            for (name, where), param in params.items():
                para = nodes.paragraph(
                    "",
                    "",
                    nodes.literal(name, name),
                    nodes.Text(f" ({where}{', required' if param.get('required') else ''}; "),
                )
                para += self.type_nodes(param.get("schema", {}))
                para += nodes.Text(")")
                if param.get("description"):
                    para += [nodes.Text(": ")] + inline(param["description"])
                plist += nodes.list_item("", para)
            section += plist

        body = operation.get("requestBody")
        if body:
            section += nodes.rubric("Request body", "Request body")
            section += paragraphs(body.get("description", ""))
            required = "Required; " if body.get("required") else "Optional; "
            section += self.media_nodes(body.get("content", {}), required + "media type")

        section += nodes.rubric("Responses", "Responses")
        dlist = nodes.definition_list()
        for status, response in operation.get("responses", {}).items():
            term = nodes.term("", "", nodes.strong(status, status))
            definition = nodes.definition()
            definition += paragraphs(response.get("description", ""))
            definition += self.media_nodes(response.get("content", {}), "Media type")
            dlist += nodes.definition_list_item("", term, definition)
        section += dlist
        return section

    def schema_section(self, name: str, schema) -> nodes.section:
        section = self.section(name, self.schema_ids[name])
        section += paragraphs(schema.get("description", ""))
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        if properties:
            plist = nodes.bullet_list()
            for prop, sub in properties.items():
                para = nodes.paragraph("", "", nodes.literal(prop, prop), nodes.Text(" ("))
                para += self.type_nodes(sub)
                para += nodes.Text(", required)" if prop in required else ", optional)")
                if isinstance(sub, dict) and sub.get("description"):
                    para += [nodes.Text(": ")] + inline(sub["description"])
                plist += nodes.list_item("", para)
            section += plist
        section += json_block(schema)
        return section


def setup(app):
    app.add_directive("rpymostat-openapi", OpenApiDirective)
    return {
        "version": "1.0",
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
