// A small well-formedness checker for the report's own output (XHTML-style:
// every element closed, void elements self-closed or known, attributes
// quoted, '&' only in entities). Not a general HTML parser: it checks what
// the report writer promises.
#pragma once

#include <string>
#include <vector>

namespace wattlab::report::testing {

// Returns "" when well formed, else the first problem with its byte offset.
std::string CheckWellFormed(const std::string& doc);

// Text content of every element <tag ... class="cls" ...>...</tag> (escaped
// form), in document order.
std::vector<std::string> ElementTexts(const std::string& doc, const std::string& tag, const std::string& cls);

}  // namespace wattlab::report::testing
