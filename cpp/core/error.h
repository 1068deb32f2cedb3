// voxqc core error model. Plain C++ (no Node): the N-API layer maps ErrorCode to the
// JavaScript `.code` strings (ERR_INVALID_ARG, ...). Every error that reaches a user should be
// a voxqc::Error with a message that says what was wrong and, where known, which file.
#pragma once

#include <stdexcept>
#include <string>

namespace voxqc {

enum class ErrorCode {
  InvalidArg,   // ERR_INVALID_ARG: an option or input array is out of its domain
  Decode,       // ERR_DECODE: bytes that are not valid audio in the format they claim
  Unsupported,  // ERR_UNSUPPORTED: valid but not handled here (caller may try another decoder)
  NotFound,     // ERR_NOT_FOUND
  Native,       // ERR_NATIVE: an internal failure (libtorch, allocation, bug)
};

const char* errorCodeName(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

[[noreturn]] inline void throwInvalidArg(const std::string& message) {
  throw Error(ErrorCode::InvalidArg, message);
}
[[noreturn]] inline void throwDecode(const std::string& message) {
  throw Error(ErrorCode::Decode, message);
}

}  // namespace voxqc
