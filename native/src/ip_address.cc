#include "ip_address.h"

#include <arpa/inet.h>

namespace kubelvs {

in_addr ParseIPv4(Napi::Env env, const std::string& text, const char* what) {
  in_addr address{};
  if (inet_pton(AF_INET, text.c_str(), &address) != 1) {
    throw Napi::TypeError::New(env, std::string(what) + ": not an IPv4 address: '" + text + "'");
  }
  return address;
}

in6_addr ParseIPv6(Napi::Env env, const std::string& text, const char* what) {
  in6_addr address{};
  if (inet_pton(AF_INET6, text.c_str(), &address) != 1) {
    throw Napi::TypeError::New(env, std::string(what) + ": not an IPv6 address: '" + text + "'");
  }
  return address;
}

std::string FormatIPv4(const in_addr& address) {
  char text[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &address, text, sizeof text) != nullptr ? text : "";
}

std::string FormatIPv6(const in6_addr& address) {
  char text[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, &address, text, sizeof text) != nullptr ? text : "";
}

}  // namespace kubelvs
