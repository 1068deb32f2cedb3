#include "core/error.h"

namespace voxqc {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArg: return "ERR_INVALID_ARG";
    case ErrorCode::Decode: return "ERR_DECODE";
    case ErrorCode::Unsupported: return "ERR_UNSUPPORTED";
    case ErrorCode::NotFound: return "ERR_NOT_FOUND";
    case ErrorCode::Native: return "ERR_NATIVE";
  }
  return "ERR_NATIVE";
}

}  // namespace voxqc
