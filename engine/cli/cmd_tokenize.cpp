// `vkflow tokenize --vocab FILE TEXT...`: the CLIP token ids of each prompt, one JSON list per line —
// a quick way to check a prompt (and the tokenizer) against openai/CLIP's SimpleTokenizer.
#include <filesystem>
#include <iostream>
#include <optional>

#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "engine/text/clip_tokenizer.h"

namespace vkf::cli {
namespace {

const char* kHelp =
    "usage: vkflow tokenize [--vocab FILE] TEXT...\n\n"
    "Prints the CLIP token ids of each TEXT as a JSON list on its own line: [49406, ..., 49407]\n"
    "(start and end tokens included, not truncated to 77, not padded).\n"
    "  --vocab FILE  bpe_simple_vocab_16e6.txt.gz, a merges.txt, a vocab.json (with merges.txt beside it)\n"
    "                or a folder holding one; default: $VKFLOW_CLIP_VOCAB\n";

int run_tokenize(std::vector<std::string> argv) {
  Args a(argv, {"vocab"}, {"help"});
  if (a.flag("help")) {
    std::cout << kHelp;
    return kExitOk;
  }
  if (a.positional().empty()) throw UsageError("expected at least one TEXT to tokenize");
  std::filesystem::path vocab;
  if (auto v = a.get("vocab")) {
    std::error_code ec;
    if (!std::filesystem::exists(*v, ec)) throw UsageError("--vocab '" + *v + "' does not exist");
    vocab = *v;
  } else {
    // Consults $VKFLOW_CLIP_VOCAB; the error says where a vocabulary can go.
    vocab = text::find_clip_vocab(std::nullopt, {}, {});
  }
  auto tok = text::ClipTokenizer::from_file(vocab);
  // Encode everything first, so that a bad prompt prints nothing rather than a partial result.
  std::vector<std::vector<int32_t>> all;
  for (size_t i = 0; i < a.positional().size(); ++i) {
    try {
      all.push_back(tok.encode(a.positional()[i]));
    } catch (const text::TokenizerError& e) {
      throw text::TokenizerError("TEXT " + std::to_string(i + 1) + ": " + e.what());
    }
  }
  for (const auto& ids : all) {
    std::cout << '[';
    for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? ", " : "") << ids[i];
    std::cout << "]\n";
  }
  return kExitOk;
}

Registrar reg({"tokenize", "print the CLIP token ids of prompts (JSON lists)", run_tokenize});

}  // namespace
}  // namespace vkf::cli
