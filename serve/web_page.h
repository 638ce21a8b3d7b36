// serve/web_page.h: the web chat page served at "/": serve/web/index.html, embedded into the
// binary at build time (serve/CMakeLists.txt turns it into bytes in web_page.cpp).
#pragma once
#include <string_view>

namespace gptcu {
std::string_view web_page();
}
